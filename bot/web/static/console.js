// The staff console's only script (served from this site; the CSP allows nothing else):
// canned replies fill the reply box, and the inbox refreshes itself so that what one
// specialist does shows up for the others.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-insert]");
  if (!button) return;
  const target = document.getElementById(button.dataset.target);
  if (!target) return;
  target.value = target.value ? `${target.value}\n${button.dataset.insert}` : button.dataset.insert;
  target.focus();
});

const rows = document.getElementById("inbox-rows");
if (rows && rows.dataset.refresh) {
  setInterval(async () => {
    try {
      const response = await fetch(rows.dataset.refresh, { headers: { "X-Fragment": "1" } });
      if (response.ok && response.headers.get("content-type")?.startsWith("text/html")) {
        rows.innerHTML = await response.text();
      }
    } catch (error) {
      // offline for a moment: the next round tries again
    }
  }, 20000);
}
