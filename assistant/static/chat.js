// Runs once per chat view (Gradio's js_on_load: `element` is the view, `trigger` fires
// its events). Clicks are delegated from the view, so they keep working as the streamed
// HTML is re-rendered.

// The app's own address: inside a <gradio-app> on another site's page, its src.
const app = element.closest("gradio-app");
const appSrc = app && app.getAttribute("src");
const appBase = appSrc ? new URL(appSrc, document.baseURI).href : document.baseURI;

// The rating and regenerate controls name their answer, and a translation its turn and
// citation; the server finds them in the session's turns (assistant/server/chat/: events.py,
// feedback.py, translation.py).
const answerOf = (control) => control.closest("[data-answer]").dataset.answer;

// A file the view carries (data-content), saved under its name; its links start with
// the export bar's mark, which becomes the app's address.
function save(button) {
  const bar = button.closest("[data-root-mark]");
  const root = new URL(bar.dataset.root, appBase).href;
  const content = button.dataset.content.replaceAll(bar.dataset.rootMark, root);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([content], { type: button.dataset.type }));
  link.download = button.dataset.download;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

// Gradio's container clips with overflow: hidden, which makes it the box that the sticky
// question row (chat.css, a phone) sticks in, so it would never stick; clip clips the
// same without that. (The chat's CSS cannot reach the container: Gradio scopes it inside.)
const container = element.closest(".gradio-container");
if (container) {
  container.style.overflow = "clip";
}

// Shows a citation's card. Beside the answer (a wide screen), the card is scrolled into
// view. On a phone the sources open as a sheet over the lower part of the screen
// (chat.css): the sheet alone scrolls to the card, and the page moves only as far as it
// takes to keep the marker above the sheet, so the answer stays in view.
function showCard(marker, card) {
  const layout = element.querySelector(".na-layout");
  const sources = layout.querySelector(".na-sources");
  layout.classList.add("na-sheet-open");
  if (getComputedStyle(sources).position !== "fixed") {
    card.scrollIntoView({ block: "nearest" });
    return;
  }
  const head = sources.querySelector(".na-sources-head").getBoundingClientRect();
  sources.scrollTop += card.getBoundingClientRect().top - head.bottom - 8;
  const covered = marker.getBoundingClientRect().bottom - sources.getBoundingClientRect().top;
  if (covered > 0) {
    window.scrollBy(0, covered + 16);
  }
}

element.addEventListener("click", (event) => {
  const rate = event.target.closest("[data-rate]");
  if (rate) {
    trigger("like", { answer: answerOf(rate), rating: rate.dataset.rate });
    return;
  }
  const sendComment = event.target.closest("[data-send-comment]");
  if (sendComment) {
    const feedback = sendComment.closest("[data-rating]");
    trigger("like", {
      answer: answerOf(feedback),
      rating: feedback.dataset.rating,
      comment: feedback.querySelector("textarea").value,
    });
    return;
  }
  const regenerate = event.target.closest("[data-regenerate]");
  if (regenerate) {
    regenerate.disabled = true; // once: the re-rendered view takes the button away
    trigger("retry", { answer: answerOf(regenerate) });
    return;
  }
  const translate = event.target.closest("[data-translate]");
  if (translate) {
    // The turn and the citation's marker: the server translates the sentence it cited,
    // read from the article, and the re-rendered view shows "translating…" in its place.
    translate.disabled = true;
    trigger("expand", { turn: translate.dataset.turnId, cite: translate.dataset.cite });
    return;
  }
  const download = event.target.closest("[data-download]");
  if (download) {
    save(download);
    return;
  }
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
      showCard(marker, card);
    }
    return;
  }
  if (event.target.closest("[data-close-sources]")) {
    element.querySelector(".na-layout").classList.remove("na-sheet-open");
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

if (appSrc) {
  // The view's links to the article pages are relative to this server (unless
  // server.public_url is set). Inside a <gradio-app> on another site's page they would
  // resolve against that page, so they are resolved against the app's own src when used.
  const resolve = (event) => {
    const link = event.target.closest("a[href^='/']");
    if (link) {
      link.href = new URL(link.getAttribute("href"), appBase).href;
    }
  };
  element.addEventListener("mousedown", resolve, true);
  element.addEventListener("click", resolve, true);
} else {
  // The page's title is the heading's, in the chat's language (on another site's page,
  // the title stays that page's own).
  const retitle = () => {
    const heading = element.querySelector(".na-product");
    if (heading) {
      document.title = heading.textContent;
    }
  };
  retitle();
  watch("value", retitle);
}
