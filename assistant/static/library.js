// The library page's upload form (prompts/html/library.html; the server side is
// assistant/server/routers/library.py). Sends the chosen files with fetch, then follows
// the upload until each file is done or failed, showing every file's state, and reloads
// the list of documents. Text from the server is set as text, never as markup.
(() => {
  const form = document.getElementById("upload-form");
  const list = document.getElementById("upload-files");
  const words = form.dataset; // the catalogue's words, in the page's language
  const POLL_MS = 500;
  const headers = { "X-Library-Upload": "1" }; // what a cross-site form cannot send

  const element = (tag, className, text) => {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  };

  const outcome = (file) =>
    file.outcome === "already_indexed"
      ? words.alreadyIndexed
      : (words[file.outcome] || "").replace("{chunks}", file.chunks);

  // One line per file: its name, its state, what became of it, its documents, problems.
  const fileItem = (file) => {
    const item = element("li", `upload-file upload-${file.state}`);
    item.dataset.name = file.name;
    item.append(element("span", "upload-name", file.name));
    item.append(element("span", "upload-state", words[file.state]));
    if (file.outcome) item.append(" ", element("span", "upload-detail", outcome(file)));
    if (file.documents && file.documents.length) {
      const links = element("div", "upload-documents");
      for (const document_ of file.documents) {
        const link = element("a", "", document_.doc_id);
        link.href = document_.url;
        links.append(link);
      }
      item.append(links);
    }
    if (file.problems && file.problems.length) {
      const problems = element("ul", "upload-problems");
      for (const problem of file.problems) problems.append(element("li", "", problem));
      item.append(problems);
    }
    return item;
  };

  const show = (files) => list.replaceChildren(...files.map(fileItem));

  const failed = (message) =>
    list.replaceChildren(element("li", "upload-file upload-failed", `${words.error}: ${message}`));

  const reloadDocuments = async () => {
    const page = await fetch(window.location.href);
    const fresh = new DOMParser().parseFromString(await page.text(), "text/html");
    const listing = fresh.getElementById("library-list");
    if (listing) document.getElementById("library-list").replaceWith(listing);
  };

  const errorOf = async (response) => {
    try {
      return (await response.json()).error.message;
    } catch {
      return `HTTP ${response.status}`;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...form.elements.files.files];
    if (!chosen.length) return;
    const button = form.querySelector("button");
    button.disabled = true;
    show(chosen.map((file) => ({ name: file.name, state: "uploading" })));
    try {
      let response = await fetch(form.action, { method: "POST", body: new FormData(form), headers });
      if (!response.ok) return failed(await errorOf(response));
      let job = await response.json();
      show(job.files);
      while (!job.finished) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        response = await fetch(`${form.action}/${job.job_id}`, { headers });
        if (!response.ok) return failed(await errorOf(response));
        job = await response.json();
        show(job.files);
      }
      form.reset();
      await reloadDocuments();
    } catch (error) {
      failed(error.message);
    } finally {
      button.disabled = false;
    }
  });
})();
