// The "Create key" form of the dashboard, in plain DOM: a key alias and a free-text description.

export interface KeyFormValues {
  alias: string;
  description: string;
}

export function renderKeyForm(container: HTMLElement, onSubmit: (values: KeyFormValues) => void): HTMLFormElement {
  const form = document.createElement("form");
  form.innerHTML = `
    <label for="key-alias">Key alias</label>
    <input id="key-alias" name="alias" required />
    <label for="key-description">Description</label>
    <textarea id="key-description" name="description"></textarea>
    <p role="alert" hidden>Give the key an alias</p>
    <button type="submit">Create key</button>
  `;
  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const alias = String(data.get("alias") ?? "").trim();
    const alert = form.querySelector<HTMLElement>("[role=alert]")!;
    alert.hidden = alias !== "";
    if (alias) {
      onSubmit({ alias, description: String(data.get("description") ?? "") });
    }
  });
  container.replaceChildren(form);
  return form;
}
