/**
 * The page's script, inlined into `index.html` and allowed by its hash in the page's
 * Content-Security-Policy. It renders the cards from the embedded JSON index with DOM calls
 * and `textContent` only (record text is never parsed as HTML), filters them, moves focus with
 * the arrow keys, opens the detail view, copies rerun commands, and, when the page is served
 * by `falai gallery --serve`, listens to `events` and re-reads `index.json` as jobs finish.
 * Plain ES2020 with no template literals, so it can live in this TypeScript string.
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var BATCH = 200;
  var dataEl = document.getElementById('gallery-data');
  var data = JSON.parse(dataEl.textContent || '{}');
  var items = [];
  var byId = new Map();
  var cards = new Map();
  var visible = [];
  var rendered = 0;
  var current = null;
  var returnFocus = null;

  var grid = document.getElementById('grid');
  var countEl = document.getElementById('count');
  var emptyEl = document.getElementById('empty');
  var moreBtn = document.getElementById('more');
  var search = document.getElementById('q');
  var modelSel = document.getElementById('model');
  var fromEl = document.getElementById('from');
  var toEl = document.getElementById('to');
  var resetBtn = document.getElementById('reset');
  var dialog = document.getElementById('detail');
  var live = document.getElementById('live');
  var subEl = document.getElementById('sub');
  var reduceMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function shortId(id) { return id.length > 14 ? id.slice(0, 8) + '\\u2026' + id.slice(-4) : id; }
  function modelName(id) { return id.replace(/^fal-ai\\//, ''); }
  function altText(item) {
    var text = item.prompt ? item.prompt : 'Output of ' + item.endpointId;
    return text.length > 300 ? text.slice(0, 299) + '\\u2026' : text;
  }
  function fmtDate(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    try { return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }); }
    catch (e) { return d.toISOString(); }
  }
  function localDay(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var m = String(d.getMonth() + 1), day = String(d.getDate());
    return d.getFullYear() + '-' + (m.length < 2 ? '0' + m : m) + '-' + (day.length < 2 ? '0' + day : day);
  }
  function fmtCost(cost) {
    if (!cost) return '';
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: cost.currency, maximumFractionDigits: 4 }).format(cost.amount);
    } catch (e) { return cost.amount + ' ' + cost.currency; }
  }
  function fmtDuration(seconds) {
    var whole = Math.max(1, Math.round(seconds));
    var rest = String(whole % 60);
    return Math.floor(whole / 60) + ':' + (rest.length < 2 ? '0' + rest : rest);
  }
  function announce(text) { live.textContent = ''; live.textContent = text; }

  function copyText(text) {
    function fallback() {
      var area = el('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      return ok;
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, fallback);
    }
    return Promise.resolve(fallback());
  }
  function copyButton(item) {
    var button = el('button', 'copy', 'Copy rerun command');
    button.type = 'button';
    button.setAttribute('data-command', item.rerun);
    button.title = item.rerun;
    button.addEventListener('click', function (event) {
      event.stopPropagation();
      copyText(item.rerun).then(function (ok) {
        button.textContent = ok ? 'Copied' : 'Copy failed';
        button.classList.toggle('done', ok);
        announce(ok ? 'Copied: ' + item.rerun : 'Could not copy; the command is ' + item.rerun);
        setTimeout(function () { button.textContent = 'Copy rerun command'; button.classList.remove('done'); }, 1600);
      });
    });
    return button;
  }

  function mediaNode(media, item, inCard) {
    if (media.kind === 'image') {
      var img = el('img');
      img.src = inCard && media.thumb ? media.thumb : media.src;
      img.alt = altText(item);
      img.decoding = 'async';
      if (inCard) img.loading = 'lazy';
      if (media.width && media.height) { img.width = media.width; img.height = media.height; }
      return img;
    }
    if (media.kind === 'video') {
      var video = el('video');
      video.muted = true;
      video.defaultMuted = true;
      video.loop = true;
      video.playsInline = true;
      video.setAttribute('muted', '');
      video.setAttribute('playsinline', '');
      video.setAttribute('loop', '');
      video.preload = 'metadata';
      if (media.thumb) video.poster = media.thumb;
      video.src = media.src;
      video.setAttribute('aria-label', altText(item));
      if (!inCard) { video.controls = true; if (!reduceMotion) video.autoplay = true; }
      return video;
    }
    if (media.kind === 'audio') {
      var audio = el('audio');
      audio.controls = true;
      audio.preload = 'none';
      audio.src = media.src;
      audio.setAttribute('aria-label', altText(item));
      return audio;
    }
    var link = el('a', null, media.name);
    link.href = media.src;
    return link;
  }

  var videoWatch = 'IntersectionObserver' in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var video = entry.target;
      if (entry.isIntersecting && !reduceMotion) { var p = video.play(); if (p && p.catch) p.catch(function () {}); }
      else video.pause();
    });
  }, { threshold: 0.25 }) : null;

  function buildCard(item) {
    var card = el('article', 'card');
    card.tabIndex = 0;
    card.setAttribute('data-id', item.id);
    card.setAttribute('aria-label', (item.prompt || item.endpointId).slice(0, 200));
    var box = el('div', 'media');
    var first = item.media[0];
    if (first) {
      var node = mediaNode(first, item, true);
      box.appendChild(node);
      if (first.kind === 'video' && videoWatch) videoWatch.observe(node);
      if (first.kind === 'video') box.appendChild(el('span', 'badge', first.durationSeconds ? 'video \u00b7 ' + fmtDuration(first.durationSeconds) : 'video'));
      else if (item.media.length > 1) box.appendChild(el('span', 'badge', '+' + (item.media.length - 1)));
    } else {
      box.appendChild(el('p', 'none', item.missingFiles ? 'No local file \\u2014 falai download ' + item.id : 'No output files'));
    }
    card.appendChild(box);
    var body = el('div', 'body');
    var prompt = el('p', item.prompt ? 'prompt' : 'prompt empty', item.prompt || '(no prompt)');
    body.appendChild(prompt);
    var meta = el('p', 'meta');
    var model = el('span', 'model', modelName(item.endpointId));
    model.title = item.endpointId;
    meta.appendChild(model);
    meta.appendChild(document.createTextNode(' \\u00b7 '));
    var time = el('time', null, fmtDate(item.date));
    time.dateTime = item.date;
    meta.appendChild(time);
    body.appendChild(meta);
    var facts = el('dl', 'facts');
    function fact(name, value, cls) {
      facts.appendChild(el('dt', null, name));
      var dd = el('dd', cls || null, value);
      dd.title = value;
      facts.appendChild(dd);
    }
    if (item.seed !== undefined) fact('Seed', item.seed, 'mono seed');
    if (item.cost) fact('Cost', fmtCost(item.cost));
    fact('Request', shortId(item.id), 'mono rid');
    facts.lastChild.title = item.id;
    body.appendChild(facts);
    if (item.parents.length || item.children.length) {
      var parts = [];
      if (item.parents.length) parts.push('made from ' + item.parents.length);
      if (item.children.length) parts.push(item.children.length + ' made from it');
      body.appendChild(el('p', 'lineage-line', '\\u21b3 ' + parts.join(' \\u00b7 ')));
    }
    var actions = el('div', 'actions');
    actions.appendChild(copyButton(item));
    body.appendChild(actions);
    card.appendChild(body);
    card.addEventListener('click', function () { openDetail(item.id); });
    return card;
  }
  function cardFor(item) {
    var card = cards.get(item.id);
    if (!card) { card = buildCard(item); cards.set(item.id, card); }
    return card;
  }

  function matches(item, words, model, from, to) {
    if (model && item.endpointId !== model) return false;
    if (from || to) {
      var day = localDay(item.date);
      if (from && day < from) return false;
      if (to && day > to) return false;
    }
    if (words.length) {
      var hay = (item.prompt + ' ' + item.id + ' ' + item.endpointId + ' ' + (item.seed || '')).toLowerCase();
      for (var i = 0; i < words.length; i++) if (hay.indexOf(words[i]) < 0) return false;
    }
    return true;
  }
  function applyFilters() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var model = modelSel.value, from = fromEl.value, to = toEl.value;
    visible = items.filter(function (item) { return matches(item, words, model, from, to); });
    grid.textContent = '';
    rendered = 0;
    renderMore();
    var total = items.length;
    countEl.textContent = visible.length === total
      ? total + (total === 1 ? ' output' : ' outputs')
      : visible.length + ' of ' + total + ' outputs';
    emptyEl.hidden = visible.length > 0;
    emptyEl.textContent = total === 0
      ? 'Nothing here yet. Finished requests with saved outputs appear here: try falai run fal-ai/nano-banana-pro --set prompt="a lighthouse at dusk".'
      : 'No outputs match these filters.';
  }
  function renderMore(upTo) {
    var end = Math.min(visible.length, Math.max(rendered + BATCH, upTo === undefined ? 0 : upTo + 1));
    var frag = document.createDocumentFragment();
    for (var i = rendered; i < end; i++) frag.appendChild(cardFor(visible[i]));
    grid.appendChild(frag);
    rendered = end;
    moreBtn.hidden = rendered >= visible.length;
    moreBtn.textContent = 'Show more (' + (visible.length - rendered) + ' left)';
  }

  function fillModels() {
    var chosen = modelSel.value;
    var counts = new Map();
    items.forEach(function (item) { counts.set(item.endpointId, (counts.get(item.endpointId) || 0) + 1); });
    while (modelSel.options.length > 1) modelSel.remove(1);
    Array.from(counts.keys()).sort().forEach(function (id) {
      var option = el('option', null, modelName(id) + ' (' + counts.get(id) + ')');
      option.value = id;
      modelSel.appendChild(option);
    });
    modelSel.value = counts.has(chosen) ? chosen : '';
  }

  function setData(next) {
    data = next;
    items = Array.isArray(next.items) ? next.items : [];
    byId = new Map(items.map(function (item) { return [item.id, item]; }));
    cards.forEach(function (card, id) {
      var node = card.querySelector('video');
      if (node && videoWatch) videoWatch.unobserve(node);
    });
    cards = new Map();
    var liveNow = next.live && /^https?:$/.test(location.protocol);
    subEl.textContent = 'Made with falai \u00b7 ' + items.length + (items.length === 1 ? ' request' : ' requests') +
      ' \u00b7 ' + (liveNow ? 'live: updates as jobs finish' : 'built ' + fmtDate(next.generatedAt));
    fillModels();
    applyFilters();
  }

  function indexOfVisible(id) {
    for (var i = 0; i < visible.length; i++) if (visible[i].id === id) return i;
    return -1;
  }
  function focusCard(index) {
    if (!visible.length) return;
    index = Math.max(0, Math.min(visible.length - 1, index));
    if (index >= rendered) renderMore(index);
    var card = cardFor(visible[index]);
    card.focus();
    card.scrollIntoView({ block: 'nearest' });
  }
  function columns() {
    var children = grid.children;
    if (!children.length) return 1;
    var top = children[0].offsetTop, n = 0;
    for (var i = 0; i < children.length && children[i].offsetTop === top; i++) n++;
    return Math.max(1, n);
  }
  grid.addEventListener('keydown', function (event) {
    var card = event.target.closest && event.target.closest('.card');
    if (!card || event.target !== card) return;
    var index = indexOfVisible(card.getAttribute('data-id'));
    var step = 0;
    switch (event.key) {
      case 'ArrowRight': step = 1; break;
      case 'ArrowLeft': step = -1; break;
      case 'ArrowDown': step = columns(); break;
      case 'ArrowUp': step = -columns(); break;
      case 'Home': event.preventDefault(); focusCard(0); return;
      case 'End': event.preventDefault(); focusCard(visible.length - 1); return;
      case 'Enter': case ' ': event.preventDefault(); openDetail(card.getAttribute('data-id')); return;
      default: return;
    }
    event.preventDefault();
    focusCard(index + step);
  });

  function lineageEntry(id, field, note) {
    var li = el('li');
    var target = byId.get(id);
    if (target) {
      var button = el('button', null);
      button.type = 'button';
      var first = target.media[0];
      if (first && first.kind === 'image') {
        var img = el('img');
        img.src = first.thumb || first.src;
        img.alt = altText(target);
        button.appendChild(img);
      } else {
        button.appendChild(el('span', 'swatch'));
      }
      var text = el('span', 'text');
      text.appendChild(el('span', null, target.prompt ? (target.prompt.length > 90 ? target.prompt.slice(0, 89) + '\\u2026' : target.prompt) : modelName(target.endpointId)));
      text.appendChild(el('span', 'field', (field ? field + ' \\u00b7 ' : '') + modelName(target.endpointId) + ' \\u00b7 ' + shortId(id)));
      button.appendChild(text);
      button.setAttribute('data-goto', id);
      button.addEventListener('click', function () { openDetail(id); });
      li.appendChild(button);
    } else {
      var t = el('span', 'text');
      t.appendChild(el('span', 'mono', id));
      t.appendChild(el('span', 'field', (field ? field + ' \\u00b7 ' : '') + (note || 'not in this gallery')));
      li.appendChild(t);
    }
    return li;
  }

  function openDetail(id) {
    var item = byId.get(id);
    if (!item) return;
    if (!dialog.open) returnFocus = id;
    current = id;
    var mediaBox = dialog.querySelector('.detail-media');
    mediaBox.querySelectorAll('video').forEach(function (v) { v.pause(); });
    mediaBox.textContent = '';
    if (item.media.length) item.media.forEach(function (m) { mediaBox.appendChild(mediaNode(m, item, false)); });
    else mediaBox.appendChild(el('p', 'muted', item.missingFiles ? 'The output is not saved on this machine. Get it with: falai download ' + item.id : 'This request has no output files.'));
    var prompt = dialog.querySelector('.prompt-full');
    prompt.textContent = item.prompt || '(no prompt)';
    prompt.classList.toggle('muted', !item.prompt);
    var facts = dialog.querySelector('.detail-facts');
    facts.textContent = '';
    function fact(name, value, cls) {
      facts.appendChild(el('dt', null, name));
      facts.appendChild(el('dd', cls || null, value));
    }
    fact('Model', item.endpointId, 'mono');
    fact('Finished', fmtDate(item.date));
    fact('Seed', item.seed !== undefined ? item.seed : 'not recorded', item.seed !== undefined ? 'mono seed' : 'muted');
    fact('Cost', item.cost ? fmtCost(item.cost) : 'not recorded', item.cost ? null : 'muted');
    fact('Request', item.id, 'mono rid');
    var files = item.media.length + (item.media.length === 1 ? ' file' : ' files');
    if (item.missingFiles) files += ', ' + item.missingFiles + ' not saved here';
    fact('Outputs', files);

    var from = dialog.querySelector('.lineage-from');
    from.textContent = '';
    var external = item.inputs.filter(function (input) { return !input.parent; });
    var parentInputs = item.inputs.filter(function (input) { return input.parent; });
    var seen = new Set();
    parentInputs.forEach(function (input) {
      if (seen.has(input.parent)) return;
      seen.add(input.parent);
      from.appendChild(lineageEntry(input.parent, input.field));
    });
    external.forEach(function (input) {
      var li = el('li');
      var t = el('span', 'text');
      t.appendChild(el('span', input.kind === 'url' ? 'mono' : null, input.label));
      t.appendChild(el('span', 'field', input.field + ' \\u00b7 ' + (input.kind === 'path' ? 'local file' : input.kind === 'url' ? 'URL' : 'inline data')));
      li.appendChild(t);
      from.appendChild(li);
    });
    if (!from.children.length) from.appendChild(el('li', 'muted', 'Nothing: made from its prompt alone.'));
    var made = dialog.querySelector('.lineage-to');
    made.textContent = '';
    item.children.forEach(function (child) { made.appendChild(lineageEntry(child, '')); });
    if (!made.children.length) made.appendChild(el('li', 'muted', 'Nothing yet.'));

    var settings = dialog.querySelector('.detail-settings');
    settings.textContent = '';
    item.settings.forEach(function (pair) { settings.appendChild(el('dt', null, pair[0])); settings.appendChild(el('dd', 'mono', pair[1])); });
    dialog.querySelector('.settings-head').hidden = item.settings.length === 0;
    settings.hidden = item.settings.length === 0;

    var rerun = dialog.querySelector('.rerun');
    rerun.textContent = '';
    rerun.appendChild(el('code', null, item.rerun));
    rerun.appendChild(copyButton(item));

    if (!dialog.open) dialog.showModal();
    dialog.querySelector('.close').focus();
  }
  function closeDetail() { if (dialog.open) dialog.close(); }
  dialog.addEventListener('close', function () {
    dialog.querySelectorAll('video').forEach(function (v) { v.pause(); });
    var id = current;
    current = null;
    var index = indexOfVisible(id);
    if (index < 0) index = indexOfVisible(returnFocus);
    if (index >= 0) focusCard(index);
  });
  dialog.addEventListener('click', function (event) { if (event.target === dialog) closeDetail(); });
  dialog.querySelector('.close').addEventListener('click', closeDetail);
  dialog.addEventListener('keydown', function (event) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    var tag = event.target.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'VIDEO') return;
    var index = indexOfVisible(current);
    if (index < 0) return;
    var next = index + (event.key === 'ArrowRight' ? 1 : -1);
    if (next < 0 || next >= visible.length) return;
    event.preventDefault();
    openDetail(visible[next].id);
  });

  var timer = 0;
  search.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(applyFilters, 60); });
  [modelSel, fromEl, toEl].forEach(function (input) { input.addEventListener('change', applyFilters); });
  resetBtn.addEventListener('click', function () {
    search.value = ''; modelSel.value = ''; fromEl.value = ''; toEl.value = '';
    applyFilters();
    search.focus();
  });
  document.getElementById('filters').addEventListener('submit', function (event) { event.preventDefault(); });
  moreBtn.addEventListener('click', function () { var at = rendered; renderMore(); focusCard(at); });
  if ('IntersectionObserver' in window) {
    new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && rendered < visible.length) renderMore();
    }, { rootMargin: '600px' }).observe(moreBtn);
  }
  document.addEventListener('keydown', function (event) {
    if (event.key !== '/' || dialog.open) return;
    var tag = document.activeElement && document.activeElement.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    event.preventDefault();
    search.focus();
  });

  setData(data);

  if (data.live && /^https?:$/.test(location.protocol) && 'EventSource' in window) {
    var loading = false;
    var pending = false;
    var refresh = function () {
      if (loading) { pending = true; return; }
      loading = true;
      fetch('index.json', { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (next) {
        if (!next || next.version === data.version) return;
        var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('.card') : null;
        var focusId = focused ? focused.getAttribute('data-id') : null;
        var added = (next.items || []).length - items.length;
        setData(next);
        if (focusId && indexOfVisible(focusId) >= 0) focusCard(indexOfVisible(focusId));
        if (current && byId.has(current)) openDetail(current);
        if (added > 0) announce(added + (added === 1 ? ' new output' : ' new outputs'));
      }).catch(function () {}).then(function () {
        loading = false;
        if (pending) { pending = false; refresh(); }
      });
    };
    var source = new EventSource('events');
    source.addEventListener('update', function (event) {
      var info = {};
      try { info = JSON.parse(event.data); } catch (e) {}
      if (info.version !== data.version) refresh();
    });
  }
})();
`;
