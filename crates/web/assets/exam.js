// The exam page: autosave on every change, a countdown announced at 10, 5 and 1 minutes left,
// automatic submission at the limit (the server enforces it regardless), and reports of focus
// loss and pasting for the proctor.
(function () {
  "use strict";
  var form = document.getElementById("exam");
  if (!form) return;
  var attempt = form.dataset.attempt;
  var csrf = form.querySelector("input[name=csrf]").value;
  var state = document.getElementById("save-state");
  var pending = null;

  function save() {
    pending = null;
    var body = new URLSearchParams(new FormData(form));
    state.textContent = "Saving…";
    fetch(form.action, {
      method: "POST",
      headers: { "x-autosave": "1", "content-type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin"
    }).then(function (r) {
      if (r.ok) { state.textContent = "All answers saved"; return; }
      return r.text().then(function (t) { state.textContent = "Not saved: " + t; });
    }).catch(function () { state.textContent = "Not saved: the connection dropped; your answers stay on this page"; });
  }
  form.addEventListener("change", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(save, 300);
  });
  form.addEventListener("input", function (e) {
    if (e.target.tagName !== "INPUT" || e.target.type === "checkbox" || e.target.type === "radio") return;
    if (pending) clearTimeout(pending);
    pending = setTimeout(save, 800);
  });

  function report(kind, detail) {
    fetch("/api/v1/attempts/" + attempt + "/events", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ kind: kind, detail: detail }),
      credentials: "same-origin"
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") report("focus_lost", "the exam tab was hidden");
  });
  window.addEventListener("blur", function () { report("focus_lost", "the exam window lost focus"); });
  form.addEventListener("paste", function (e) {
    var text = (e.clipboardData && e.clipboardData.getData("text")) || "";
    report("paste", text.length + " characters pasted");
  });

  var timer = document.querySelector(".timer");
  var left = document.getElementById("time-left");
  var announce = document.getElementById("time-announce");
  var deadline = Date.parse(timer.dataset.deadline);
  var announced = {};
  function tick() {
    var seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var minutes = Math.floor(seconds / 60);
    left.textContent = minutes + ":" + String(seconds % 60).padStart(2, "0");
    [10, 5, 1].forEach(function (m) {
      if (minutes < m && !announced[m] && seconds > 0) {
        announced[m] = true;
        announce.textContent = "Less than " + m + " minute" + (m === 1 ? "" : "s") + " left.";
      }
    });
    if (seconds === 0) {
      announce.textContent = "Time is up. Submitting your answers.";
      document.getElementById("submit-attempt").click();
      return;
    }
    setTimeout(tick, 1000);
  }
  if (!isNaN(deadline)) tick();
})();
