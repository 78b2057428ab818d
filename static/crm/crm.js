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
     where HTML5 drag and drop does not); held near the board's left or right edge, the board
     scrolls, so every column can be reached. A click (tap) on a card opens its move form, as
     tabbing into it does. The drop posts the card's move form, so the server's validation
     decides; on refusal the card goes back and the message is shown. */
  var EDGE = 60, SCROLL_STEP = 12;

  function setUpBoard() {
    var board = document.querySelector("[data-board]");
    if (!board) return;
    var status = document.getElementById("board-status");
    var dragging = null, startX = 0, startY = 0, startScroll = 0, maxScroll = 0, moved = false;
    var currentTarget = null, justDragged = false, lastX = 0, lastY = 0, scrolling = 0;

    board.addEventListener("pointerdown", function (event) {
      var card = event.target.closest(".deal-card");
      if (!card || event.target.closest("button, select, input, label")) return;
      dragging = card; startX = event.clientX; startY = event.clientY; moved = false;
      startScroll = board.scrollLeft;
      // The columns' own width: the dragged card, moved by a transform, widens the board too.
      maxScroll = board.scrollWidth - board.clientWidth;
    });
    function follow() {
      var dx = lastX - startX + board.scrollLeft - startScroll, dy = lastY - startY;
      dragging.style.transform = "translate(" + dx + "px," + dy + "px)";
      dragging.style.pointerEvents = "none";
      var under = document.elementFromPoint(lastX, lastY);
      dragging.style.pointerEvents = "";
      var column = under && under.closest(".board-column");
      if (currentTarget && currentTarget !== column) currentTarget.classList.remove("drop-target");
      currentTarget = column;
      if (column) column.classList.add("drop-target");
    }
    function edgeScroll() {
      scrolling = 0;
      if (!dragging || !moved) return;
      var box = board.getBoundingClientRect(), step = 0;
      if (lastX > box.right - EDGE) step = SCROLL_STEP;
      else if (lastX < box.left + EDGE) step = -SCROLL_STEP;
      var before = board.scrollLeft;
      if (step) board.scrollLeft = Math.max(0, Math.min(maxScroll, before + step));
      if (board.scrollLeft !== before) {
        follow();
        scrolling = requestAnimationFrame(edgeScroll);
      }
    }
    board.addEventListener("pointermove", function (event) {
      if (!dragging) return;
      lastX = event.clientX; lastY = event.clientY;
      if (!moved && Math.abs(lastX - startX) + Math.abs(lastY - startY) < 5) return;
      // Captured only once it is a drag: captured at once, a click on the card's link would
      // land on the card and never open the deal.
      if (!moved) dragging.setPointerCapture(event.pointerId);
      moved = true;
      dragging.classList.add("dragging");
      follow();
      if (!scrolling) scrolling = requestAnimationFrame(edgeScroll);
    });
    function finish() {
      if (!dragging) return;
      var card = dragging, column = currentTarget;
      dragging = null; currentTarget = null;
      if (scrolling) cancelAnimationFrame(scrolling);
      scrolling = 0;
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
    board.addEventListener("click", function (event) {
      var card = event.target.closest(".deal-card");
      if (!card || event.target.closest("a, button, select, input, label, form")) return;
      var open = card.classList.toggle("show-move");
      var select = card.querySelector("select[name=stage]");
      if (open && select) select.focus();
    });
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
