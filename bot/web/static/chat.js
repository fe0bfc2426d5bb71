// The web chat's only script. Messages and taps are posted with the page's CSRF token; the
// server answers with ready HTML (escaped there); specialists' replies are fetched by polling.
(function () {
  const chat = document.querySelector("main.chat");
  if (!chat) return;
  const log = document.getElementById("log");
  const toast = document.getElementById("toast");
  const composer = document.getElementById("composer");
  const phoneForm = document.getElementById("phone-form");
  const csrf = chat.dataset.csrf;
  let after = chat.dataset.after || "0";

  function append(html) {
    if (!html) return;
    log.insertAdjacentHTML("beforeend", html);
    log.scrollTop = log.scrollHeight;
  }

  function say(text) {
    toast.textContent = text;
    toast.hidden = !text;
  }

  async function post(url, fields) {
    const body = new FormData();
    body.append("csrf", csrf);
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    const response = await fetch(url, { method: "POST", body, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    return response;
  }

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = composer.elements.text;
    const text = box.value.trim();
    if (!text) return;
    box.value = "";
    say("");
    try {
      append(await (await post("/chat/send", { text })).text());
    } catch (error) {
      say(chat.dataset.offline || "…");
      box.value = text;
    }
    box.focus();
  });

  composer.elements.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  chat.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-tap]");
    if (!button) return;
    const bubble = button.closest("li");
    button.disabled = true;
    try {
      const response = await post("/chat/tap", { data: button.dataset.tap });
      const html = await response.text();
      say(decodeURIComponent(response.headers.get("X-Toast") || ""));
      if (response.headers.get("X-Show-Phone")) {
        phoneForm.hidden = false;
        phoneForm.elements.phone.focus();
      }
      if (response.headers.get("X-Clear-Buttons") && bubble) {
        bubble.querySelectorAll(".choices").forEach((row) => row.remove());
      }
      if (response.headers.get("X-Replace") && html && bubble) {
        bubble.outerHTML = html;
      } else {
        append(html);
      }
    } finally {
      button.disabled = false;
    }
  });

  phoneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    append(await (await post("/chat/phone", { phone: phoneForm.elements.phone.value })).text());
    phoneForm.hidden = true;
  });

  document.getElementById("forget-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    log.innerHTML = "";
    append(await (await post("/chat/forget", {})).text());
  });

  setInterval(async () => {
    try {
      const response = await fetch(`/chat/updates?after=${encodeURIComponent(after)}`, {
        credentials: "same-origin",
      });
      if (response.status !== 200) return;
      after = response.headers.get("X-After") || after;
      append(await response.text());
    } catch (error) {
      // offline for a moment: the next round tries again
    }
  }, Number(chat.dataset.poll) || 5000);
})();
