// The preview page's only script: search, night mode and phone width. The cards themselves
// carry no script (Anki note types must work without it); this only toggles classes.
(function () {
  "use strict";
  var frame = document.getElementById("pv-frame");
  var search = document.getElementById("pv-search");
  var count = document.getElementById("pv-count");
  var empty = document.getElementById("pv-empty");
  var night = document.getElementById("pv-night");
  var mobile = document.getElementById("pv-mobile");
  var toc = document.getElementById("pv-toc");
  var articles = Array.prototype.slice.call(document.querySelectorAll(".pv-card"));
  var screens = Array.prototype.slice.call(document.querySelectorAll(".pv-screen > .card"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".pv-section, .pv-topic"));
  var navItems = Array.prototype.slice.call(document.querySelectorAll(".pv-nav li[data-target]"));

  // Anki puts nightMode (and the older night_mode) on the element that has the card class.
  function applyNight() {
    screens.forEach(function (el) {
      el.classList.toggle("nightMode", night.checked);
      el.classList.toggle("night_mode", night.checked);
    });
    document.body.classList.toggle("pv-night", night.checked);
  }

  // Anki's phone apps set .mobile on an ancestor of the card; the frame is that ancestor here.
  function applyMobile() {
    frame.classList.toggle("mobile", mobile.checked);
  }

  function applySearch() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    articles.forEach(function (article) {
      var text = article.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      article.hidden = !match;
      if (match) { shown += 1; }
    });
    // A section or topic with no matching card disappears.
    groups.forEach(function (group) {
      group.hidden = group.querySelector(".pv-card:not([hidden])") === null;
    });
    // Contents entries count the matching cards and vanish when there are none.
    navItems.forEach(function (item) {
      var target = document.getElementById(item.getAttribute("data-target"));
      var matches = target.querySelectorAll(".pv-card:not([hidden])").length;
      item.hidden = matches === 0;
      item.querySelector(".pv-n").textContent = matches;
    });
    count.value = words.length
      ? shown + " of " + articles.length + " cards"
      : articles.length + (articles.length === 1 ? " card" : " cards");
    empty.hidden = shown !== 0;
  }

  night.addEventListener("change", applyNight);
  mobile.addEventListener("change", applyMobile);
  search.addEventListener("input", applySearch);
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search) {
      event.preventDefault();
      search.focus();
    }
  });

  // First view follows the device: dark system theme → night mode, narrow screen → phone width
  // with the contents folded away.
  var narrow = window.matchMedia("(max-width: 700px)").matches;
  night.checked = window.matchMedia("(prefers-color-scheme: dark)").matches;
  mobile.checked = narrow;
  toc.open = !narrow;
  applyNight();
  applyMobile();
  applySearch();
})();
