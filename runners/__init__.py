"""The `pyro-vaes` command line: click commands over pyro_vaes.api."""
