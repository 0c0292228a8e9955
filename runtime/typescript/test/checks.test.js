import assert from "node:assert/strict";
import { test } from "node:test";
import { hasDuplicates } from "telemetry-gen-runtime";

test("hasDuplicates finds a repeat as a Set would, in short lists and long ones", () => {
  for (const length of [0, 1, 2, 16, 17, 1000]) {
    const distinct = Array.from({ length }, (_, index) => (index % 2 === 0 ? index : `${index}`));
    assert.equal(hasDuplicates(distinct), false, `${length} distinct items`);
    if (length < 2) continue;
    for (const repeat of [0, length - 2]) {
      const repeated = [...distinct.slice(0, -1), distinct[repeat]];
      assert.equal(hasDuplicates(repeated), true, `${length} items, the last repeating item ${repeat}`);
    }
  }
  for (const values of [[1, "1"], [true, 1], [0, -0], [Number.NaN, Number.NaN], [null, null], [1.5, 1.5]]) {
    for (const padding of [0, 20]) {
      const list = [...Array.from({ length: padding }, (_, index) => `pad${index}`), ...values];
      assert.equal(hasDuplicates(list), new Set(list).size !== list.length, `${JSON.stringify(values)} after ${padding} items`);
    }
  }
});
