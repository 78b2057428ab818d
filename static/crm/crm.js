/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Selects that apply at once (the language switch).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // Move focus to an error summary so screen readers announce it after a failed submit.
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
    // Bulk selection: "select all" ticks every row on the page.
    document.querySelectorAll("input[data-select-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = all.checked; });
      });
    });
    setUpBoard();
  });

  /* Pipeline board: drag a card with a mouse, pen or finger (pointer events also work on tablets,
     where HTML5 drag and drop does not). The drop posts the card's move form, so the server's
     validation decides; on refusal the card goes back and the message is shown. */
  function setUpBoard() {
    var board = document.querySelector("[data-board]");
    if (!board) return;
    var status = document.getElementById("board-status");
    var dragging = null, startX = 0, startY = 0, moved = false, currentTarget = null;
    var justDragged = false;

    board.addEventListener("pointerdown", function (event) {
      var card = event.target.closest(".deal-card");
      if (!card || event.target.closest("button, select, input, label")) return;
      dragging = card; startX = event.clientX; startY = event.clientY; moved = false;
      card.setPointerCapture(event.pointerId);
    });
    board.addEventListener("pointermove", function (event) {
      if (!dragging) return;
      var dx = event.clientX - startX, dy = event.clientY - startY;
      if (!moved && Math.abs(dx) + Math.abs(dy) < 5) return;
      moved = true;
      dragging.classList.add("dragging");
      dragging.style.transform = "translate(" + dx + "px," + dy + "px)";
      dragging.style.pointerEvents = "none";
      var under = document.elementFromPoint(event.clientX, event.clientY);
      dragging.style.pointerEvents = "";
      var column = under && under.closest(".board-column");
      if (currentTarget && currentTarget !== column) currentTarget.classList.remove("drop-target");
      currentTarget = column;
      if (column) column.classList.add("drop-target");
    });
    function finish() {
      if (!dragging) return;
      var card = dragging, column = currentTarget;
      dragging = null; currentTarget = null;
      card.classList.remove("dragging");
      card.style.transform = "";
      if (column) column.classList.remove("drop-target");
      if (!moved) return;
      justDragged = true;  // the click that ends a drag must not follow the card's link
      setTimeout(function () { justDragged = false; }, 0);
      if (!column || column.dataset.stage === card.dataset.stage) return;
      moveCard(card, column);
    }
    board.addEventListener("click", function (event) {
      if (justDragged) { event.preventDefault(); event.stopPropagation(); }
    }, true);
    board.addEventListener("pointerup", finish);
    board.addEventListener("pointercancel", finish);

    function moveCard(card, column) {
      var source = card.closest(".board-column");
      var form = card.querySelector("form.move-form");
      var data = new FormData(form);
      data.set("stage", column.dataset.stage);
      column.querySelector(".cards").prepend(card);
      card.dataset.stage = column.dataset.stage;
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (!result.ok) throw new Error(result.body.message || "Error");
        updateTotals(result.body.columns);
        card.querySelector("select[name=stage]").value = column.dataset.stage;
        announce(result.body.message);
      }).catch(function (error) {
        source.querySelector(".cards").prepend(card);
        card.dataset.stage = source.dataset.stage;
        announce(error.message, true);
      });
    }
    function updateTotals(columns) {
      (columns || []).forEach(function (info) {
        var column = board.querySelector('.board-column[data-stage="' + info.stage + '"]');
        if (!column) return;
        column.querySelector("[data-count]").textContent = info.count;
        column.querySelector("[data-total]").textContent = info.total;
      });
    }
    function announce(text, isError) {
      if (!status) return;
      status.hidden = false;
      status.textContent = text;
      status.className = "message" + (isError ? " error" : "");
    }
  }
})();
