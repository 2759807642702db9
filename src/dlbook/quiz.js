// dlbook.quiz: one call per block of questions, with the block's <section> element.
// It reads the block's data (the JSON script inside it), answers the Check buttons, and
// keeps {question id: {first: right on the first try}} in localStorage under one key,
// so that the chapter's count survives a reload; without localStorage (a sandboxed
// frame) it keeps them for the page's life only.
(function (root) {
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var KEY = 'dlbook-quiz-progress', memory = {};
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || '{}'); } catch (e) { return memory; }
  }
  function save(all) {
    try { localStorage.setItem(KEY, JSON.stringify(all)); } catch (e) { memory = all; }
    window.dispatchEvent(new Event('dlbook-quiz-progress'));
  }
  function progress() {
    var all = load(), answered = 0, first = 0;
    data.chapterIds.forEach(function (id) {
      if (all[id]) { answered += 1; if (all[id].first) first += 1; }
    });
    root.querySelectorAll('.dlbook-question').forEach(function (fieldset) {
      var feedback = fieldset.querySelector('.dlbook-feedback');
      if (!all[fieldset.dataset.id]) { feedback.innerHTML = ''; }  // forgotten
    });
    root.querySelector('.dlbook-progress').textContent = 'Chapter ' + data.chapter +
      ': ' + answered + ' of ' + data.chapterIds.length + ' questions answered, ' +
      first + ' right on the first try.';
  }
  function mark(ok) {
    return '<p class="' + (ok ? 'dlbook-right">&#10003; Right.' :
      'dlbook-wrong">&#10007; Not quite: try again.') + '</p>';
  }
  function check(fieldset) {
    var id = fieldset.dataset.id, q = data.questions[id], ok, why = [];
    if (q.kind === 'number') {
      var text = fieldset.querySelector('input').value.trim().replace(',', '.');
      var x = parseFloat(text);
      ok = text !== '' && isFinite(x) && Math.abs(x - q.answer) <= q.tolerance + 1e-12;
      why.push(ok ? q.right : q.wrong);
    } else {
      var chosen = [];
      fieldset.querySelectorAll('input').forEach(function (input, i) {
        if (input.checked) { chosen.push(i); why.push(q.options[i].why); }
      });
      if (!chosen.length) {
        fieldset.querySelector('.dlbook-feedback').innerHTML =
          '<p>Choose an answer first.</p>';
        return;
      }
      ok = q.options.every(function (option, i) {
        return option.correct === (chosen.indexOf(i) >= 0);
      });
    }
    var feedback = fieldset.querySelector('.dlbook-feedback');
    feedback.innerHTML = mark(ok) + why.map(function (w) { return '<p>' + w + '</p>'; }).join('');
    if (window.MathJax && MathJax.typesetPromise) { MathJax.typesetPromise([feedback]); }
    var all = load();
    if (!all[id]) { all[id] = {first: ok}; }
    all[id].right = all[id].right || ok;
    save(all);
  }
  root.querySelectorAll('.dlbook-question').forEach(function (fieldset) {
    fieldset.querySelector('.dlbook-check').addEventListener('click', function () {
      check(fieldset);
    });
    var earlier = load()[fieldset.dataset.id];
    if (earlier) {
      fieldset.querySelector('.dlbook-feedback').innerHTML = '<p>Answered before' +
        (earlier.first ? ', right on the first try.' : '.') + '</p>';
    }
  });
  root.querySelector('.dlbook-reset').addEventListener('click', function () {
    var all = load();
    data.chapterIds.forEach(function (id) { delete all[id]; });
    save(all);
  });
  window.addEventListener('dlbook-quiz-progress', progress);
  progress();
})
