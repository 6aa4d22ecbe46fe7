/* The progress page of a background export: polls the job's status every second, moves
   the progress bar and shows the download link when the file is ready. Without JavaScript
   the page refreshes itself (a <noscript> meta refresh). */
(function () {
  "use strict";

  var box = document.getElementById("export-job");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var FINISHED = { done: true, failed: true };
  var INTERVAL_MS = 1000;

  function find(name) {
    return box.querySelector("[" + name + "]");
  }

  function show(element, visible) {
    if (!element) {
      return;
    }
    element.classList.toggle("d-none", !visible);
  }

  function update(job) {
    box.setAttribute("data-status", job.status);
    var state = find("data-export-state");
    if (state && job.status_display) {
      state.textContent = job.status_display;
    }
    var note = find("data-export-note");
    if (note) {
      find("data-export-note-text").textContent = job.restart_note || "";
      show(note, Boolean(job.restart_note));
    }
    var count = find("data-export-count");
    if (count && job.total) {
      count.hidden = false;
      find("data-export-progress").textContent = job.progress;
      find("data-export-total").textContent = job.total;
    }
    var bar = find("data-export-bar");
    if (bar) {
      bar.value = job.percent;
      bar.textContent = job.percent + "%";
    }
    if (job.status === "done" && job.download_url) {
      var link = find("data-export-download");
      link.href = job.download_url;
      show(link, true);
    }
    if (job.status === "failed") {
      var error = find("data-export-error");
      if (job.error) {
        error.textContent = job.error;
      }
      show(error, true);
    }
    if (FINISHED[job.status]) {
      show(find("data-export-wait"), false);
    }
  }

  function schedule() {
    window.setTimeout(poll, INTERVAL_MS);
  }

  function poll() {
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (!job) {
          schedule();
          return;
        }
        update(job);
        if (!FINISHED[job.status]) {
          schedule();
        }
      })
      .catch(schedule);
  }

  if (!FINISHED[box.getAttribute("data-status")]) {
    schedule();
  }
})();
