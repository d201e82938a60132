// mlpilot web UI: draw charts, confirm actions, and keep the compare selection. Nothing else.
"use strict";

function drawCharts() {
  if (typeof Plotly === "undefined") return;
  for (const el of document.querySelectorAll(".chart[data-figure]")) {
    const figure = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, figure.data, figure.layout, { displayModeBar: false, responsive: true });
  }
}

function confirmActions() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

function compareSelection() {
  const button = document.getElementById("compare");
  if (!button) return;
  const boxes = document.querySelectorAll("input.pick");
  const update = () => {
    const picked = [...boxes].filter((box) => box.checked).length;
    const most = Number(button.dataset.most || 10);
    button.disabled = picked < 2 || picked > most;
    button.textContent = picked > most ? `Compare at most ${most} runs` : picked ? `Compare ${picked} runs` : "Compare";
  };
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
}

function formatted(value) {
  if (value === null || value === undefined) return "—";
  return Number.isInteger(value) ? String(value) : String(parseFloat(value.toPrecision(4)));
}

// Figures with data-live refresh from a JSON endpoint of the UI (same session cookie).
function liveFigures() {
  for (const box of document.querySelectorAll("[data-live]")) {
    const refresh = async () => {
      const response = await fetch(box.dataset.live, { credentials: "same-origin" });
      if (!response.ok) return;
      const values = await response.json();
      for (const field of box.querySelectorAll("[data-field]")) {
        field.textContent = formatted(values[field.dataset.field]);
      }
    };
    setInterval(() => refresh().catch(() => {}), 5000);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  liveFigures();
  drawCharts();
  confirmActions();
  compareSelection();
});
