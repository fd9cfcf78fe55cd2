// The userEvent.setup edit as a jscodeshift transform: the baseline that test_corpus.py times stabfix
// against (same files, same edit: `userEvent.setup()` -> `userEvent.setup({ delay: null })`, an options
// object without `delay` gets `delay: null`).
module.exports = function transform(file, api) {
  const j = api.jscodeshift;
  const root = j(file.source);
  let changed = false;
  root
    .find(j.CallExpression, {
      callee: { type: "MemberExpression", object: { name: "userEvent" }, property: { name: "setup" } },
    })
    .forEach((path) => {
      const args = path.node.arguments;
      const delay = j.objectProperty(j.identifier("delay"), j.nullLiteral());
      if (args.length === 0) {
        args.push(j.objectExpression([delay]));
        changed = true;
      } else if (
        args[0].type === "ObjectExpression" &&
        !args[0].properties.some((p) => p.key && (p.key.name === "delay" || p.key.value === "delay"))
      ) {
        args[0].properties.push(delay);
        changed = true;
      }
    });
  return changed ? root.toSource() : null;
};

module.exports.parser = "tsx";
