// The session-day drill's step card (an anywidget front end; Python grades, this file only shows).
//
// Accessibility contract (WCAG 2.1 AA), checked by tests/test_browser.py and
// tests/test_browser_a11y.py:
// - the step is an <h2> heading that takes focus after "Next", so it is announced;
// - each choice is a <fieldset> whose <legend> is the question: native radios form one Tab stop
//   (arrow keys move between them and choose); tick boxes are each a Tab stop; a text box has a
//   <label> and its hint is its description; a section of the form is a fieldset with a legend;
// - "Check this step" submits, and so does Enter in a text box; a step with an unanswered field is
//   never sent: a polite live region says which, and focus goes to the first one;
// - after "Check" focus moves to the feedback, each field says in words whether it was right, and
//   "Next" follows the feedback in Tab order.
// Python sends HTML it has escaped (feedback_html, summary_html); every other text from the model
// is inserted as text, never as HTML.

function h(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
}

let instances = 0;

function render({ model, el }) {
  const uid = `kd-s${++instances}`;
  el.classList.add("kd-qcard", "kd-stepcard");
  const heading = h("h2", { id: `${uid}-h`, tabindex: "-1", class: "kd-q-heading" });
  const intro = h("p", { class: "kd-hint kd-step-intro" });
  const fieldsBox = h("div", { class: "kd-fields" });
  const check = h("button", { type: "submit", class: "kd-btn kd-primary", text: "Check this step" });
  const form = h(
    "form",
    { class: "kd-q-form", novalidate: true, "aria-labelledby": `${uid}-h` },
    fieldsBox,
    h("div", { class: "kd-actions" }, check),
  );
  const notice = h("div", { class: "kd-notice", role: "status", "aria-live": "polite" });
  const feedback = h("div", {
    class: "kd-feedback-box",
    tabindex: "-1",
    role: "region",
    "aria-label": "Feedback on this step",
  });
  const next = h("button", { type: "button", class: "kd-btn", text: "Next step" });
  const summary = h("div", {
    class: "kd-summary-box",
    tabindex: "-1",
    role: "region",
    "aria-label": "Summary of the session day",
  });
  const again = h("button", { type: "button", class: "kd-btn", text: "Work this session again" });
  el.replaceChildren(heading, intro, form, notice, feedback, next, summary, again);

  // per field: {field, inputs, box (text input), first (focus target), mark}
  let controls = [];

  function bump(name, extra = {}) {
    const old = model.get(name) || {};
    model.set(name, { ...extra, n: (old.n || 0) + 1 });
    model.save_changes();
  }

  function say(text) {
    // a new text node each time, so that the live region announces a repeated message too
    notice.replaceChildren(document.createTextNode(text));
  }

  function choiceField(f, i) {
    const id = `${uid}-f${i}`;
    const multiple = f.kind === "multiple";
    const mark = h("span", { class: "kd-mark", id: `${id}-mark` });
    const legend = h("legend", { class: "kd-legend" }, h("span", { text: f.label }), mark);
    const set = h("fieldset", { class: "kd-choices", "data-field": f.id }, legend);
    // short choices (yes / no / not recorded) sit on one line; they wrap on a narrow screen
    const short = (f.options || []).every((o) => o.label.length <= 16);
    if (short && (f.options || []).length <= 4) set.classList.add("kd-inline");
    if (f.hint) {
      set.append(h("p", { class: "kd-hint", id: `${id}-hint`, text: f.hint }));
      set.setAttribute("aria-describedby", `${id}-hint`);
    }
    const inputs = [];
    (f.options || []).forEach((o, j) => {
      const oid = `${id}-o${j}`;
      const input = h("input", {
        type: multiple ? "checkbox" : "radio",
        id: oid,
        name: `${id}-answer`,
        value: o.value,
      });
      inputs.push(input);
      set.append(h("div", { class: "kd-choice" }, input, h("label", { for: oid, text: o.label })));
    });
    if (multiple) {
      const only = new Set(f.exclusive || []);
      inputs.forEach((x) =>
        x.addEventListener("change", () => {
          if (!x.checked) return;
          inputs.forEach((y) => {
            if (y !== x && (only.has(x.value) || only.has(y.value))) y.checked = false;
          });
        }),
      );
    }
    return { field: f, inputs, box: null, first: inputs[0], mark, node: set };
  }

  function textField(f, i) {
    const id = `${uid}-f${i}`;
    const mark = h("span", { class: "kd-mark", id: `${id}-mark` });
    const box = h("input", {
      type: "text",
      id,
      class: "kd-textbox",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": f.hint ? `${id}-hint` : null,
    });
    const label = h(
      "label",
      { for: id, class: "kd-legend" },
      h("span", { text: f.label + (f.optional ? " (optional)" : "") }),
      mark,
    );
    const node = h(
      "div",
      { class: "kd-text", "data-field": f.id },
      label,
      f.hint ? h("p", { class: "kd-hint", id: `${id}-hint`, text: f.hint }) : null,
      box,
    );
    return { field: f, inputs: [box], box, first: box, mark, node };
  }

  function drawStep() {
    const s = model.get("step") || {};
    heading.replaceChildren(
      h("span", { class: "kd-q-number", text: s.total ? `Step ${s.number} of ${s.total}` : "" }),
      h("span", { class: "kd-q-prompt", text: s.title || "" }),
    );
    intro.textContent = s.intro || "";
    controls = [];
    fieldsBox.replaceChildren();
    let section = null;
    let sectionName = "";
    (s.fields || []).forEach((f, i) => {
      const c = f.kind === "text" ? textField(f, i) : choiceField(f, i);
      controls.push(c);
      if (f.section && f.section !== sectionName) {
        sectionName = f.section;
        section = h(
          "fieldset",
          { class: "kd-form-section" },
          h("legend", { class: "kd-section-legend", text: f.section }),
        );
        fieldsBox.append(section);
      } else if (!f.section) {
        section = null;
        sectionName = "";
      }
      (section || fieldsBox).append(c.node);
    });
    notice.replaceChildren();
    drawResults();
  }

  function drawResults() {
    const results = model.get("results") || {};
    controls.forEach((c) => {
      const r = results[c.field.id];
      c.node.classList.toggle("kd-right", r === true);
      c.node.classList.toggle("kd-wrong", r === false);
      c.mark.textContent = r === true ? " \u2713 correct" : r === false ? " \u2717 not quite: see the feedback" : "";
    });
  }

  function drawPhase() {
    const phase = model.get("phase");
    const asking = phase === "question";
    const answered = phase === "answered";
    const done = phase === "summary";
    const empty = phase === "empty";
    heading.hidden = done;
    intro.hidden = done || empty;
    form.hidden = done || empty;
    check.disabled = !asking;
    controls.forEach((c) => c.inputs.forEach((x) => (x.disabled = !asking)));
    next.hidden = !answered;
    next.textContent = model.get("next_label") || "Next step";
    feedback.hidden = !answered;
    summary.hidden = !done;
    again.hidden = !done;
    if (empty) {
      heading.hidden = false;
      heading.replaceChildren(document.createTextNode("There is no session to work here."));
    }
  }

  function valueOf(c) {
    const f = c.field;
    if (f.kind === "text") return (c.box.value || "").trim();
    if (f.kind === "multiple") return c.inputs.filter((x) => x.checked).map((x) => x.value);
    const chosen = c.inputs.find((x) => x.checked);
    return chosen ? chosen.value : null;
  }

  function isEmpty(c, v) {
    if (c.field.optional) return false;
    return v === null || v === "" || (Array.isArray(v) && !v.length);
  }

  function focusTarget() {
    const want = model.get("focus") || {};
    let node = null;
    if (want.target === "heading") node = heading;
    else if (want.target === "feedback") node = feedback;
    else if (want.target === "summary") node = summary.querySelector("h2, h3") || summary;
    else if (want.target === "trainee") node = document.querySelector(".kd-trainee-id input");
    else if (want.target === "field") {
      const c = controls.find((x) => x.field.id === want.field) || controls[0];
      node = c ? c.inputs.find((x) => x.checked) || c.first : null;
    }
    if (node) {
      if (!node.hasAttribute("tabindex") && !/^(INPUT|BUTTON|A|SELECT|TEXTAREA)$/.test(node.tagName)) {
        node.setAttribute("tabindex", "-1");
      }
      node.focus();
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (model.get("phase") !== "question") return;
    const answers = {};
    const missing = [];
    controls.forEach((c) => {
      const v = valueOf(c);
      answers[c.field.id] = v;
      if (isEmpty(c, v)) missing.push(c);
    });
    if (missing.length) {
      const names = missing.slice(0, 3).map((c) => c.field.label);
      const more = missing.length > 3 ? ` and ${missing.length - 3} more` : "";
      say(
        `Answer every question of this step first: ${missing.length} not answered ` +
          `(${names.join("; ")}${more}). Nothing was checked or recorded.`,
      );
      const first = missing[0];
      (first.inputs.find((x) => x.checked) || first.first).focus();
      return;
    }
    bump("submission", { answers });
  });
  next.addEventListener("click", () => bump("next_request"));
  again.addEventListener("click", () => bump("restart_request"));

  model.on("change:step", () => {
    drawStep();
    drawPhase();
  });
  model.on("change:phase", drawPhase);
  model.on("change:next_label", drawPhase);
  model.on("change:results", drawResults);
  model.on("change:feedback_html", () => (feedback.innerHTML = model.get("feedback_html") || ""));
  model.on("change:summary_html", () => (summary.innerHTML = model.get("summary_html") || ""));
  model.on("change:notice", () => {
    const text = model.get("notice") || "";
    if (text) say(text);
    else notice.replaceChildren();
  });
  // after every other change of the same message has been drawn
  model.on("change:focus", () => setTimeout(focusTarget, 0));

  drawStep();
  feedback.innerHTML = model.get("feedback_html") || "";
  summary.innerHTML = model.get("summary_html") || "";
  if (model.get("notice")) say(model.get("notice"));
  drawPhase();
  // tell Python the card is on screen
  model.set("rendered", (model.get("rendered") || 0) + 1);
  model.save_changes();
}

export default { render };
