// The seal console's page script: preview a page, click to place the seal, seal, show the report.
// Served from our origin (CSP default-src 'self'); builds the DOM with textContent only.
(function () {
  "use strict";

  var root = document.getElementById("seal-workspace");
  if (!root) {
    return;
  }
  var form = document.getElementById("seal-form");
  var fileInput = document.getElementById("seal-file");
  var pageInput = document.getElementById("seal-page");
  var previewButton = document.getElementById("seal-preview-button");
  var pagesText = document.getElementById("seal-pages");
  var place = document.getElementById("seal-place");
  var choose = document.getElementById("seal-choose");
  var ofdNote = document.getElementById("seal-ofd-note");
  var image = document.getElementById("seal-preview-image");
  var marker = document.getElementById("seal-marker");
  var positionText = document.getElementById("seal-position");
  var xInput = document.getElementById("seal-x");
  var yInput = document.getElementById("seal-y");
  var picker = document.getElementById("seal-picker");
  var crossRow = document.getElementById("seal-cross-page-row");
  var levelRow = document.getElementById("seal-level-row");
  var crossBox = document.getElementById("seal-cross-page");
  var applyButton = document.getElementById("seal-apply");
  var errorBox = document.getElementById("seal-error");
  var busy = document.getElementById("seal-busy");
  var result = document.getElementById("seal-result");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var current = null; // {format, page, width_mm, height_mm}

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
  }

  function setBusy(on) {
    busy.hidden = !on;
    previewButton.disabled = on;
    applyButton.disabled = on || !ready();
  }

  function ready() {
    return current !== null && xInput.value !== "" && picker.value !== "" && !picker.selectedOptions[0].disabled;
  }

  function reset() {
    current = null;
    place.hidden = true;
    choose.hidden = true;
    result.hidden = true;
    marker.hidden = true;
    xInput.value = "";
    yInput.value = "";
    positionText.textContent = root.dataset.msgNone;
    applyButton.disabled = true;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().then(
        function (data) {
          return { ok: response.ok, status: response.status, data: data };
        },
        function () {
          return { ok: false, status: response.status, data: {} };
        }
      );
    });
  }

  function failed(reply) {
    var data = reply.data || {};
    showError(data.message || data.error_description || data.error || "HTTP " + reply.status);
  }

  function filterSeals(algorithms) {
    var first = null;
    Array.prototype.forEach.call(picker.options, function (option) {
      var usable = algorithms.indexOf(option.dataset.algorithm) >= 0;
      option.disabled = !usable;
      option.hidden = !usable;
      if (usable && first === null) {
        first = option;
      }
    });
    picker.value = first ? first.value : "";
  }

  function sizeMarker() {
    var option = picker.selectedOptions[0];
    if (!current || !option) {
      return;
    }
    var size = parseFloat(option.dataset.sizeMm) || 40;
    marker.style.width = (100 * size) / current.width_mm + "%";
    marker.style.height = (100 * size) / current.height_mm + "%";
  }

  previewButton.addEventListener("click", function () {
    clearError();
    reset();
    if (!fileInput.files.length) {
      fileInput.reportValidity();
      return;
    }
    var body = new FormData();
    body.append("csrf_token", csrf);
    body.append("document", fileInput.files[0]);
    body.append("page", pageInput.value || "1");
    setBusy(true);
    post(root.dataset.previewUrl, body)
      .then(function (reply) {
        if (!reply.ok) {
          failed(reply);
          return;
        }
        var data = reply.data;
        current = data;
        image.src = data.image;
        image.alt = root.dataset.msgPreviewAlt.replace("{page}", String(data.page));
        pagesText.textContent = root.dataset.msgPages.replace("{pages}", String(data.pages));
        pageInput.max = String(data.pages);
        ofdNote.hidden = data.content_rendered;
        crossRow.hidden = data.format !== "ofd";
        levelRow.hidden = data.format !== "pdf";
        if (data.format !== "ofd") {
          crossBox.checked = false;
        }
        filterSeals(data.algorithms);
        sizeMarker();
        place.hidden = false;
        choose.hidden = false;
      })
      .catch(function (err) {
        showError(String(err));
      })
      .then(function () {
        setBusy(false);
      });
  });

  fileInput.addEventListener("change", function () {
    clearError();
    reset();
  });
  pageInput.addEventListener("change", reset);
  picker.addEventListener("change", function () {
    sizeMarker();
    applyButton.disabled = !ready();
  });

  image.addEventListener("click", function (event) {
    if (!current) {
      return;
    }
    var rect = image.getBoundingClientRect();
    var fx = Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1);
    var fy = Math.min(Math.max((event.clientY - rect.top) / rect.height, 0), 1);
    var x = Math.round(fx * current.width_mm * 10) / 10;
    var y = Math.round(fy * current.height_mm * 10) / 10;
    xInput.value = String(x);
    yInput.value = String(y);
    marker.style.left = fx * 100 + "%";
    marker.style.top = fy * 100 + "%";
    marker.hidden = false;
    positionText.textContent = "x = " + x + " mm, y = " + y + " mm";
    applyButton.disabled = !ready();
  });

  function cell(row, text, header) {
    var el = document.createElement(header ? "th" : "td");
    el.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(el);
    return el;
  }

  function showReport(data) {
    var link = document.getElementById("seal-download");
    link.href = data.download_url;
    link.setAttribute("download", data.filename);
    document.getElementById("seal-operation").textContent = data.operation_id;
    var verdict = document.getElementById("seal-verdict");
    verdict.textContent = data.verdict;
    verdict.className = data.verdict === "VALID" ? "verdict-ok" : "verdict-bad";
    document.getElementById("seal-verdict-text").textContent = "(" + data.verdict_text + ")";
    var figure = document.getElementById("seal-sealed-figure");
    var sealedImage = document.getElementById("seal-sealed-image");
    if (data.sealed_preview_url) {
      sealedImage.src = data.sealed_preview_url;
      figure.hidden = false;
    } else {
      sealedImage.removeAttribute("src");
      figure.hidden = true;
    }
    var holder = document.getElementById("seal-signatures");
    holder.textContent = "";
    (data.report.signatures || []).forEach(function (sig) {
      var table = document.createElement("table");
      table.className = "grid seal-signature";
      var body = document.createElement("tbody");
      var rows = [
        [root.dataset.labelSeal, sig.seal_name || data.seal.name],
        [root.dataset.labelSigner, sig.signer_subject],
        [root.dataset.labelTime, sig.signing_time],
        [root.dataset.labelIndication, sig.indication + (sig.sub_indication ? " / " + sig.sub_indication : "")],
      ];
      if (sig.pades_level) {
        rows.push([root.dataset.labelLevel, "PAdES " + sig.pades_level]);
      }
      rows.forEach(function (pair) {
        var row = document.createElement("tr");
        cell(row, pair[0], true);
        var value = cell(row, pair[1], false);
        if (pair[0] === root.dataset.labelIndication) {
          value.className = "seal-indication";
        }
        body.appendChild(row);
      });
      var row = document.createElement("tr");
      cell(row, root.dataset.labelChecks, true);
      var td = cell(row, "", false);
      var list = document.createElement("ul");
      (sig.checks || []).forEach(function (check) {
        var item = document.createElement("li");
        item.textContent = check.name + ": " + check.status;
        list.appendChild(item);
      });
      td.appendChild(list);
      body.appendChild(row);
      table.appendChild(body);
      holder.appendChild(table);
    });
    result.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    if (!ready()) {
      return;
    }
    var body = new FormData(form);
    setBusy(true);
    result.hidden = true;
    post(root.dataset.signUrl, body)
      .then(function (reply) {
        if (!reply.ok) {
          failed(reply);
          return;
        }
        showReport(reply.data);
      })
      .catch(function (err) {
        showError(String(err));
      })
      .then(function () {
        setBusy(false);
      });
  });

  reset();
})();
