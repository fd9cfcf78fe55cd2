// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import userEvent from "@testing-library/user-event";
import { screen } from "@testing-library/dom";

import { renderKeyForm, type KeyFormValues } from "./KeyForm";

describe("KeyForm", () => {
  it("submits the alias and a long description", async () => {
    const submitted: KeyFormValues[] = [];
    renderKeyForm(document.body, (values) => submitted.push(values));
    const user = userEvent.setup();
    const description = "Budget-limited key for the nightly batch jobs of the proxy. ".repeat(75);

    await user.type(screen.getByLabelText("Key alias"), "nightly-batch");
    await user.type(screen.getByLabelText("Description"), description);
    await user.click(screen.getByRole("button", { name: "Create key" }));

    expect(submitted).toEqual([{ alias: "nightly-batch", description }]);
  });

  it("asks for an alias", async () => {
    const submitted: KeyFormValues[] = [];
    renderKeyForm(document.body, (values) => submitted.push(values));
    const user = userEvent.setup();

    await user.click(screen.getByRole("button", { name: "Create key" }));

    expect(submitted).toEqual([]);
    expect(screen.getByRole("alert").hidden).toBe(false);
  });
});
