// The talent office's web chat, embedded with one <script> tag: a button that opens the chat
// in a frame served by the office's own talentbot (nothing is fetched from anywhere else).
(function () {
  var base = {{ base|tojson }};
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = {{ label|tojson }};
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483000;padding:10px 16px;border:0;border-radius:20px;background:#0b5cad;color:#fff;font-size:15px;cursor:pointer";
  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/chat?embed=1";
      frame.title = {{ title|tojson }};
      frame.style.cssText = "position:fixed;right:16px;bottom:64px;z-index:2147483000;width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 96px));border:1px solid #d9dee4;border-radius:8px;background:#fff";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.appendChild(button);
})();
