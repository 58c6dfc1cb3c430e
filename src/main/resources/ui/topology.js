// Portway's topology page: what each Service's addresses send to, read from the API server every
// two seconds (while the tab is seen). Everything shown is built as text nodes (never as HTML), and
// every request goes to this page's own origin with the token the page was given: a read-only one
// (portway ui mints it), in the URL's fragment, which is never sent to a server and is taken off
// the address at once, or typed into the sign-in form. The token is kept in this tab's
// sessionStorage only, and dropped when the server refuses it.
'use strict';

const TOKEN_KEY = 'portway-token';
const EVERY_MS = 2000;
const TIMEOUT_MS = 10000;

class SignInNeeded extends Error {}

// what a token may hold to go in a header (visible ASCII): a link holding anything else kept the
// tab failing on every request, never asking for a token
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

function keepToken(t) {
  if (!TOKEN_SHAPE.test(t)) {
    return false;
  }
  sessionStorage.setItem(TOKEN_KEY, t);
  return true;
}

function takeTokenFromAddress() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    try {
      keepToken(decodeURIComponent(m[1]));
    } catch (e) {
      // a malformed link: the page asks for the token
    }
  }
  if (location.hash) {
    history.replaceState(null, '', location.pathname + location.search);
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function get(path, asText) {
  const used = token();
  if (!used) {
    throw new SignInNeeded();
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const r = await fetch(path, {
      headers: { Authorization: 'Bearer ' + used, Accept: asText ? 'text/plain' : 'application/json' },
      cache: 'no-store', credentials: 'omit', redirect: 'error', signal: abort.signal,
    });
    if (r.status === 401) {
      if (token() === used) {
        sessionStorage.removeItem(TOKEN_KEY); // not one given since this request left
      }
      throw new SignInNeeded('refused');
    }
    if (!r.ok) {
      throw new Error(path + ': ' + r.status);
    }
    // the body under the same timeout: a body that stopped coming held every later refresh
    return await (asText ? r.text() : r.json());
  } finally {
    clearTimeout(timer);
  }
}

// ---- building the page, as text only ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') {
      e.className = v;
    } else {
      e.setAttribute(k, v);
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return e;
}

function key(o) {
  return (o.metadata.namespace ? o.metadata.namespace + '/' : '') + o.metadata.name;
}

// ---- the metrics Portway's data plane keeps ----

function parseMetrics(text) {
  const series = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) {
      continue;
    }
    const labels = {};
    for (const l of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (all, c) => (c === 'n' ? '\n' : c));
    }
    series.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return series;
}

function nodeAddress(node) {
  const a = (node.status && node.status.addresses || []).find(x => x.type === 'InternalIP');
  return a ? a.address : null;
}

function nodeReady(node) {
  const c = (node.status && node.status.conditions || []).find(x => x.type === 'Ready');
  return c && c.status === 'True';
}

function hostPort(ip, port) {
  return (ip.includes(':') ? '[' + ip + ']' : ip) + ':' + port;
}

// ---- rendering ----

function renderNodes(nodes) {
  const box = document.getElementById('nodes');
  box.replaceChildren(...nodes.map(n => el('div', { class: 'node', 'data-node': n.metadata.name },
    el('span', { class: 'name' }, n.metadata.name), ' ',
    el('span', { class: 'addr' }, nodeAddress(n) || 'no address'), ' ',
    nodeReady(n) ? el('span', { class: 'ok dot' }, 'Ready') : el('span', { class: 'bad dot' }, 'NotReady'))));
  document.getElementById('nodes-section').hidden = false;
}

function endpointState(e) {
  const c = e.conditions || {};
  if (c.terminating) {
    return ['warn', 'terminating'];
  }
  if (c.ready === false) {
    return c.serving ? ['warn', 'serving'] : ['bad', 'not ready'];
  }
  return ['ok', 'ready'];
}

function renderService(svc, nodes, slices, metrics) {
  const spec = svc.spec || {};
  const doors = el('ul');
  const lbIngress = (svc.status && svc.status.loadBalancer && svc.status.loadBalancer.ingress || []).filter(i => i.ip);
  for (const p of spec.ports || []) {
    const portId = p.port + '/' + (p.protocol || 'TCP');
    if (spec.type === 'LoadBalancer') {
      if (lbIngress.length === 0) {
        doors.append(el('li', {}, el('span', { class: 'kind' }, 'LoadBalancer'), el('span', { class: 'warn' }, '<pending>'), ' ', portId));
      }
      for (const i of lbIngress) {
        const health = metrics.filter(s => s.name === 'portway_loadbalancer_target_healthy' && s.labels.cluster === 'lb:' + key(svc) + ':' + portId);
        const targets = health.map(s => el('span', { class: s.value === 1 ? 'ok dot' : 'bad dot', title: s.value === 1 ? 'healthy' : 'failing its health check' }, s.labels.target));
        doors.append(el('li', { 'data-door': 'LoadBalancer' }, el('span', { class: 'kind' }, 'LoadBalancer'),
          el('span', { class: 'addr' }, hostPort(i.ip, p.port)), targets.length ? ' → ' : '', ...targets.flatMap(t => [t, ' '])));
      }
    }
    if (p.nodePort) {
      for (const n of nodes) {
        const ip = nodeAddress(n);
        if (ip) {
          doors.append(el('li', { 'data-door': 'NodePort' }, el('span', { class: 'kind' }, 'NodePort'),
            el('span', { class: 'addr' }, hostPort(ip, p.nodePort)), ' ', el('span', { class: 'muted' }, n.metadata.name)));
        }
      }
    }
    if (spec.clusterIP && spec.clusterIP !== 'None') {
      doors.append(el('li', { 'data-door': 'ClusterIP' }, el('span', { class: 'kind' }, 'ClusterIP'), el('span', { class: 'addr' }, hostPort(spec.clusterIP, p.port))));
    }
    for (const ip of spec.externalIPs || []) {
      doors.append(el('li', { 'data-door': 'ExternalIP' }, el('span', { class: 'kind' }, 'external IP'), el('span', { class: 'addr' }, hostPort(ip, p.port))));
    }
  }
  if (spec.type === 'ExternalName') {
    doors.append(el('li', {}, el('span', { class: 'kind' }, 'ExternalName'), el('span', { class: 'addr' }, spec.externalName || '')));
  }

  const endpoints = el('ul');
  const mine = slices.filter(s => s.metadata.namespace === svc.metadata.namespace
    && (s.metadata.labels || {})['kubernetes.io/service-name'] === svc.metadata.name);
  for (const s of mine) {
    const ports = (s.ports || []).map(p => p.port).filter(p => p);
    // a pod none of whose ports the Service's targetPort names sits in a slice of no ports: no traffic reaches it
    const portless = !ports.length && (spec.ports || []).length > 0;
    for (const e of s.endpoints || []) {
      const [cls, word] = portless ? ['muted', 'no port matches the targetPort'] : endpointState(e);
      const who = e.targetRef ? e.targetRef.name : (e.addresses || [])[0];
      endpoints.append(el('li', { 'data-endpoint': who },
        el('span', { class: cls + ' dot' }, who), ' ',
        el('span', { class: 'addr' }, (e.addresses || []).map(a => ports.length ? ports.map(p => hostPort(a, p)).join(', ') : a).join(', ')), ' ',
        e.nodeName ? el('span', { class: 'muted' }, e.nodeName) : null, ' ',
        el('span', { class: cls }, word)));
    }
  }
  if (!endpoints.children.length && spec.type !== 'ExternalName') {
    endpoints.append(el('li', { class: 'muted' }, spec.selector ? 'no endpoints: no ready pod matches the selector' : 'no endpoints'));
  }

  const open = metrics.filter(s => s.name === 'portway_cluster_active_connections'
    && (s.labels.cluster.startsWith(key(svc) + ':') || s.labels.cluster.startsWith('lb:' + key(svc) + ':')))
    .reduce((sum, s) => sum + s.value, 0);

  return el('div', { class: 'service', 'data-service': key(svc) },
    el('div', { class: 'service-head' },
      el('span', { class: 'name' }, key(svc)),
      el('span', { class: 'badge' }, spec.type || 'ClusterIP'),
      spec.externalTrafficPolicy === 'Local' ? el('span', { class: 'badge' }, 'traffic policy Local') : null,
      spec.sessionAffinity === 'ClientIP' ? el('span', { class: 'badge' }, 'ClientIP affinity') : null,
      el('span', { class: 'conns' }, open + (open === 1 ? ' open connection' : ' open connections'))),
    el('div', { class: 'flow' }, doors, el('div', { class: 'arrow' }, '→'), endpoints));
}

function renderGateways(gateways, routes) {
  const box = document.getElementById('gateways');
  box.replaceChildren(...gateways.map(g => {
    const addresses = (g.status && g.status.addresses || []).map(a => a.value);
    const attached = routes.filter(r => (r.spec.parentRefs || []).some(p => p.name === g.metadata.name
      && (p.namespace || r.metadata.namespace) === g.metadata.namespace));
    return el('div', { class: 'gateway', 'data-gateway': key(g) },
      el('div', { class: 'service-head' }, el('span', { class: 'name' }, key(g)), el('span', { class: 'badge' }, g.spec.gatewayClassName),
        addresses.length ? el('span', { class: 'addr' }, addresses.join(', ')) : el('span', { class: 'warn' }, 'no address')),
      el('ul', {}, ...(g.spec.listeners || []).map(l => el('li', {}, el('span', { class: 'kind' }, l.protocol),
        el('span', { class: 'addr' }, ':' + l.port), l.hostname ? ' ' + l.hostname : ''))),
      el('ul', {}, ...attached.map(r => el('li', { 'data-route': key(r) }, el('span', { class: 'kind' }, 'HTTPRoute'), key(r), ' → ',
        (r.spec.rules || []).flatMap(rule => (rule.backendRefs || []).map(b => b.name + (b.port ? ':' + b.port : ''))).join(', ') || 'no backend'))));
  }));
  document.getElementById('gateways-section').hidden = gateways.length === 0;
}

function setStatus(text, error) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.classList.toggle('error', !!error);
}

async function refresh() {
  const [nodes, services, slices, gateways, routes, metricsText] = await Promise.all([
    get('/api/v1/nodes'),
    get('/api/v1/services'),
    get('/apis/discovery.k8s.io/v1/endpointslices'),
    get('/apis/gateway.networking.k8s.io/v1/gateways'),
    get('/apis/gateway.networking.k8s.io/v1/httproutes'),
    get('/metrics', true),
  ]);
  const metrics = parseMetrics(metricsText);
  renderNodes(nodes.items);
  const shown = services.items.filter(s => !(s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes'));
  document.getElementById('services').replaceChildren(...shown.map(s => renderService(s, nodes.items, slices.items, metrics)));
  document.getElementById('services-section').hidden = false;
  renderGateways(gateways.items, routes.items);
  document.getElementById('signin').hidden = true;
  setStatus('live · updated ' + new Date().toLocaleTimeString());
}

let polling = false;

// One read at a time, every two seconds while the tab is seen; none while signed out (a refused
// token is not tried again and again).
async function loop() {
  if (!document.hidden) {
    try {
      await refresh();
    } catch (e) {
      if (e instanceof SignInNeeded) {
        document.getElementById('signin').hidden = false;
        setStatus(e.message === 'refused' ? 'the token was refused (it expires after 12 hours): sign in again'
          : 'sign in to see the cluster', true);
        polling = false;
        return;
      }
      setStatus('cannot read the cluster: ' + (e.name === 'AbortError' ? 'no answer' : e.message) + ' (trying again)', true);
    }
  }
  setTimeout(loop, EVERY_MS);
}

function startPolling() {
  if (!polling) {
    polling = true;
    loop();
  }
}

takeTokenFromAddress();
document.getElementById('signin-form').addEventListener('submit', ev => {
  ev.preventDefault();
  const t = document.getElementById('token').value.trim();
  if (t && keepToken(t)) {
    document.getElementById('token').value = '';
    startPolling();
  } else if (t) {
    setStatus('that is not a token (a token is one word of visible characters): sign in again', true);
  }
});
startPolling();
