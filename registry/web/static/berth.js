// Berth's web interface works without this script; it only adds copy buttons' behaviour.
"use strict";

function announce(text) {
  const region = document.getElementById("announce");
  if (region) region.textContent = text;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      // Fall through to the selection-based copy below.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  return copied;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const copied = await copyText(source.textContent);
      button.textContent = copied ? "Copied" : "Copy failed";
      button.dataset.copied = copied ? "true" : "false";
      announce(copied ? "Copied to the clipboard" : "Could not copy; select the text instead");
    });
  }
});
