// The latent explorer of a pyro-vaes report: every frame is precomputed and embedded in
// the page (#explorer-data); this script only picks which frame each image element shows.
(function () {
  "use strict";
  var holder = document.getElementById("explorer-data");
  if (!holder) {
    return;
  }
  var data = JSON.parse(holder.textContent);
  var picked = 0;
  var rows = Array.prototype.slice.call(document.querySelectorAll(".factor"));
  var picks = Array.prototype.slice.call(document.querySelectorAll(".pick"));
  var original = document.getElementById("picked-original");
  var reconstruction = document.getElementById("picked-reconstruction");
  var caption = document.getElementById("picked-label");

  function format(value) {
    var rounded = Math.round(value * 100) / 100 + 0;   // + 0: no "-0.00"
    return (rounded >= 0 ? "+" : "") + rounded.toFixed(2);
  }

  function show(f) {
    var row = rows[f];
    var step = Number(row.querySelector("input").value);
    row.querySelector("img.frame").src = data.frames[picked][f][step];
    row.querySelector("output").textContent = format(data.values[f][picked][step]);
  }

  function pick(i) {
    picked = i;
    picks.forEach(function (button, j) {
      button.setAttribute("aria-pressed", j === i ? "true" : "false");
    });
    original.src = data.images[i];
    reconstruction.src = data.reconstructions[i];
    caption.textContent = data.labels[i];
    rows.forEach(function (_, f) { show(f); });
  }

  function reset() {
    rows.forEach(function (row, f) {
      row.querySelector("input").value = String(data.reset[f][picked]);
      show(f);
    });
  }

  rows.forEach(function (row, f) {
    row.querySelector("input").addEventListener("input", function () { show(f); });
  });
  picks.forEach(function (button, i) {
    button.addEventListener("click", function () { pick(i); });
  });
  document.getElementById("reset").addEventListener("click", reset);
})();
