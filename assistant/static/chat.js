// Runs once per chat view (Gradio's js_on_load: `element` is the view). Clicks are
// delegated from the view, so they keep working as the streamed HTML is re-rendered.
element.addEventListener("click", (event) => {
  const marker = event.target.closest("[data-cite]");
  if (marker) {
    event.preventDefault();
    const card = element.querySelector(`[data-card="${marker.dataset.cite}"]`);
    if (card) {
      // The marker may be an earlier turn's: its turn's sources are shown instead.
      for (const shown of element.querySelectorAll(".na-current, .na-selected")) {
        shown.classList.remove("na-current", "na-selected");
      }
      card.closest(".na-turn-sources").classList.add("na-current");
      card.classList.add("na-selected");
      card.scrollIntoView({ block: "nearest" });
    }
    return;
  }
  const copyButton = event.target.closest("[data-copy]");
  if (copyButton) {
    const text = copyButton.closest(".na-answer").querySelector(".na-answer-text").innerText;
    const copied = () => { copyButton.textContent = copyButton.dataset.copied; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(copied);
    } else {
      // navigator.clipboard exists only in secure contexts (https, localhost).
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      copied();
    }
  }
});

// The view's links to the article pages are relative to this server (unless
// server.public_url is set). Inside a <gradio-app> on another site's page they would
// resolve against that page, so they are resolved against the app's own src when used.
const app = element.closest("gradio-app");
const appSrc = app && app.getAttribute("src");
if (appSrc) {
  const resolve = (event) => {
    const link = event.target.closest("a[href^='/']");
    if (link) {
      link.href = new URL(link.getAttribute("href"), new URL(appSrc, document.baseURI)).href;
    }
  };
  element.addEventListener("mousedown", resolve, true);
  element.addEventListener("click", resolve, true);
}
