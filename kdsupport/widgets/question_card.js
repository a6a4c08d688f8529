// The walkthrough's question card (an anywidget front end; Python grades, this file only shows).
//
// Accessibility contract (WCAG 2.1 AA), checked by tests/test_browser.py:
// - the question is an <h2> heading that takes focus after "Next", so it is announced;
// - the options are a <fieldset> labelled by that heading: native radios form one Tab stop
//   (arrow keys move between them), tick boxes are each a stop, a number box has a label;
// - the form submits with Enter (a number) or the "Check answer" button; an empty or unreadable
//   answer is never sent: a polite live region says what is missing;
// - after "Check answer" focus moves to the feedback, and "Next question" follows it in Tab order.
// Python sends HTML it has escaped and checked for active markup (kdsupport.render.escaping); no text
// from the model is ever inserted as HTML except feedback_html and summary_html.

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
const NUMBER = /^[-+]?(\d+([.,]\d*)?|[.,]\d+)$/;

function render({ model, el }) {
  const uid = `kd-q${++instances}`;
  el.classList.add("kd-qcard");
  const heading = h("h2", { id: `${uid}-h`, tabindex: "-1", class: "kd-q-heading" });
  const about = h("p", { class: "kd-about" });
  const hint = h("p", { id: `${uid}-hint`, class: "kd-hint" });
  const answers = h("div", { class: "kd-answers" });
  const check = h("button", { type: "submit", class: "kd-btn kd-primary", text: "Check answer" });
  const form = h(
    "form",
    { class: "kd-q-form", novalidate: true },
    answers,
    h("div", { class: "kd-actions" }, check),
  );
  const notice = h("div", { class: "kd-notice", role: "status", "aria-live": "polite" });
  const feedback = h("div", {
    class: "kd-feedback-box",
    tabindex: "-1",
    role: "region",
    "aria-label": "Feedback on your answer",
  });
  const next = h("button", { type: "button", class: "kd-btn", text: "Next question" });
  const summary = h("div", {
    class: "kd-summary-box",
    tabindex: "-1",
    role: "region",
    "aria-label": "Summary of the case",
  });
  const again = h("button", { type: "button", class: "kd-btn", text: "Work this case again" });
  el.replaceChildren(heading, about, form, notice, feedback, next, summary, again);

  let inputs = [];
  let noneBox = null;
  let numberBox = null;

  function bump(name, extra = {}) {
    const old = model.get(name) || {};
    model.set(name, { ...extra, n: (old.n || 0) + 1 });
    model.save_changes();
  }

  function say(text) {
    // a new text node each time, so that the live region announces a repeated message too
    notice.replaceChildren(document.createTextNode(text));
  }

  function drawQuestion() {
    const q = model.get("question") || {};
    inputs = [];
    noneBox = null;
    numberBox = null;
    heading.replaceChildren(
      h("span", {
        class: "kd-q-number",
        text: q.counter || (q.total ? `Question ${q.number} of ${q.total}` : ""),
      }),
      h("span", { class: "kd-q-prompt", text: q.prompt || "" }),
    );
    about.replaceChildren();
    if (q.about && q.about.length) {
      about.append("This question is about the case chart: ");
      q.about.forEach((part, i) => {
        if (i) about.append(i === q.about.length - 1 ? " and " : ", ");
        about.append(h("a", { href: `#${part.anchor}`, text: part.title }));
      });
      about.append(".");
    }
    answers.replaceChildren();
    if (q.kind === "single" || q.kind === "multiple") {
      const single = q.kind === "single";
      hint.textContent = single
        ? "Choose one answer (arrow keys move between the choices)."
        : "Tick every answer that applies, or tick \u201cNone of these\u201d.";
      const fieldset = h("fieldset", {
        class: "kd-choices",
        "aria-labelledby": `${uid}-h`,
        "aria-describedby": `${uid}-hint`,
      });
      fieldset.append(hint);
      (q.options || []).forEach((o, i) => {
        const id = `${uid}-o${i}`;
        const input = h("input", {
          type: single ? "radio" : "checkbox",
          id,
          name: `${uid}-answer`,
          value: o.value,
        });
        inputs.push(input);
        fieldset.append(h("div", { class: "kd-choice" }, input, h("label", { for: id, text: o.label })));
      });
      if (!single) {
        const id = `${uid}-none`;
        noneBox = h("input", { type: "checkbox", id, name: `${uid}-none` });
        fieldset.append(
          h("div", { class: "kd-choice kd-none" }, noneBox, h("label", { for: id, text: "None of these" })),
        );
        noneBox.addEventListener("change", () => {
          if (noneBox.checked) inputs.forEach((x) => (x.checked = false));
        });
        inputs.forEach((x) =>
          x.addEventListener("change", () => {
            if (x.checked) noneBox.checked = false;
          }),
        );
      }
      answers.append(fieldset);
    } else {
      const id = `${uid}-n`;
      const unit = q.unit ? ` (${q.unit})` : "";
      hint.textContent = "Type a number and press Enter, or press \u201cCheck answer\u201d.";
      numberBox = h("input", {
        type: "text",
        id,
        inputmode: "decimal",
        autocomplete: "off",
        "aria-describedby": `${uid}-hint`,
        "aria-labelledby": `${uid}-h ${uid}-nl`,
      });
      inputs.push(numberBox);
      answers.append(
        hint,
        h("div", { class: "kd-number" }, h("label", { id: `${uid}-nl`, for: id, text: `Your answer${unit}` }), numberBox),
      );
    }
    notice.replaceChildren();
  }

  function drawPhase() {
    const phase = model.get("phase");
    const answered = phase === "answered";
    const asking = phase === "question";
    const done = phase === "summary";
    const empty = phase === "empty";
    heading.hidden = done;
    about.hidden = done || empty;
    form.hidden = done || empty;
    check.disabled = !asking;
    inputs.forEach((x) => (x.disabled = !asking));
    if (noneBox) noneBox.disabled = !asking;
    next.hidden = !answered || !model.get("show_next");
    next.textContent = model.get("next_label") || "Next question";
    feedback.hidden = !answered;
    summary.hidden = !done;
    again.hidden = !done;
    if (empty) {
      heading.hidden = false;
      heading.replaceChildren(document.createTextNode("This case has no questions."));
    }
  }

  function drawFeedback() {
    feedback.innerHTML = model.get("feedback_html") || "";
  }

  function drawSummary() {
    summary.innerHTML = model.get("summary_html") || "";
  }

  function drawNotice() {
    const text = model.get("notice") || "";
    if (text) say(text);
    else notice.replaceChildren();
  }

  function focusTarget() {
    const target = (model.get("focus") || {}).target;
    let node = null;
    if (target === "heading") node = heading;
    else if (target === "feedback") node = feedback;
    else if (target === "summary") node = summary.querySelector("h2, h3") || summary;
    else if (target === "trainee") node = document.querySelector(".kd-trainee-id input");
    else if (target === "input") node = inputs.find((x) => x.checked) || inputs[0] || null;
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
    const q = model.get("question") || {};
    let answer;
    if (q.kind === "single") {
      const chosen = inputs.find((x) => x.checked);
      if (!chosen) return say("Choose an answer first. Nothing was checked or recorded.");
      answer = chosen.value;
    } else if (q.kind === "multiple") {
      answer = inputs.filter((x) => x.checked).map((x) => x.value);
      if (!answer.length && !(noneBox && noneBox.checked)) {
        return say("Tick at least one answer, or \u201cNone of these\u201d. Nothing was checked or recorded.");
      }
    } else {
      const text = (numberBox.value || "").trim();
      if (!text) return say("Enter a number first. Nothing was checked or recorded.");
      if (!NUMBER.test(text)) return say("Enter a number, for example 12 or 12.5. Nothing was checked or recorded.");
      answer = text.replace(",", ".");
    }
    bump("submission", { answer });
  });
  next.addEventListener("click", () => bump("next_request"));
  again.addEventListener("click", () => bump("restart_request"));

  model.on("change:question", () => {
    drawQuestion();
    drawPhase();
  });
  model.on("change:phase", drawPhase);
  model.on("change:next_label", drawPhase);
  model.on("change:show_next", drawPhase);
  model.on("change:feedback_html", drawFeedback);
  model.on("change:summary_html", drawSummary);
  model.on("change:notice", drawNotice);
  // after every other change of the same message has been drawn
  model.on("change:focus", () => setTimeout(focusTarget, 0));

  drawQuestion();
  drawFeedback();
  drawSummary();
  drawNotice();
  drawPhase();
  // tell Python the card is on screen: slow work (the session figures) may start now
  model.set("rendered", (model.get("rendered") || 0) + 1);
  model.save_changes();
}

export default { render };
