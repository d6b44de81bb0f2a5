// vaxtrust: conveniences only; every page works without this file.
(function () {
  "use strict";

  // Review item: 1-9 pick a candidate, r/e/d reject/edit/defer, n the note, Ctrl+Enter submits.
  var form = document.getElementById("decide-form");
  if (form) {
    document.addEventListener("keydown", function (event) {
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) &&
        event.target.type !== "radio";
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (form.reportValidity()) { form.submit(); }
        return;
      }
      if (typing || event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (event.key === "n") {
        event.preventDefault();
        document.getElementById("note").focus();
        return;
      }
      var choice = form.querySelector('input[name="action"][data-key="' + event.key + '"]');
      if (choice) {
        choice.checked = true;
        choice.focus();
        if (event.key === "e") { document.getElementById("edit_full_name").focus(); }
      }
    });
  }

  // Verify: scan with the camera where the browser has a QR detector (BarcodeDetector).
  var field = document.getElementById("camera-field");
  if (field && "BarcodeDetector" in window && navigator.mediaDevices) {
    field.hidden = false;
    document.getElementById("camera-start").addEventListener("click", function () {
      var video = document.getElementById("camera");
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
        .then(function (stream) {
          video.hidden = false;
          video.srcObject = stream;
          video.play();
          var look = function () {
            detector.detect(video).then(function (codes) {
              if (codes.length) {
                stream.getTracks().forEach(function (track) { track.stop(); });
                document.getElementById("text").value = codes[0].rawValue;
                document.getElementById("verify-form").submit();
              } else {
                window.requestAnimationFrame(look);
              }
            }).catch(function () { window.requestAnimationFrame(look); });
          };
          look();
        })
        .catch(function () { field.hidden = true; });
    });
  }

  // Signing page: follow a running batch (without this, the page's refresh link does it).
  var running = document.querySelector("tr[data-batch]");
  if (running && window.fetch) {
    var progress = running.querySelector("[data-progress]");
    var poll = function () {
      fetch("/api/v1/signing/batches/" + running.getAttribute("data-batch"),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (batch) {
          if (!batch) { return; }
          if (batch.state !== "running") { window.location.reload(); return; }
          progress.textContent = batch.processed.toLocaleString() +
            (batch.total === null ? "" : " / " + batch.total.toLocaleString());
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 2000);
  }
})();
