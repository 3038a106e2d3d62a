"""Data: in-memory image sets, seeded splits, labelled subsets and index batching."""

from .batching import index_batches
from .dataset import DataSplits, ImageDataset
from .groups import GroupBatch, GroupSampler, group_ids
from .idx import read_idx
from .labelled import labelled_indices
from .registry import dataset_description, list_datasets, load_dataset
from .render import render_shapes

__all__ = [
    "DataSplits",
    "GroupBatch",
    "GroupSampler",
    "ImageDataset",
    "dataset_description",
    "group_ids",
    "index_batches",
    "labelled_indices",
    "list_datasets",
    "load_dataset",
    "read_idx",
    "render_shapes",
]
