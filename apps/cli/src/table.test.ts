import { describe, expect, it } from "vitest";
import { createStyle, colourEnabled, visibleLength } from "./style.ts";
import { createProgress, renderTable } from "./table.ts";
import { capture } from "./test-io.ts";

describe("renderTable", () => {
  it("pads columns to the widest cell, colour codes not counted", () => {
    const red = createStyle(true).red;
    expect(
      renderTable(
        ["a", "bb", "c"],
        [
          ["xxx", red("y"), "z"],
          ["q", "rrr", "s"],
        ],
      ),
    ).toBe(["a    bb   c", "---  ---  -", `xxx  ${red("y")}    z`, "q    rrr  s"].join("\n"));
  });
});

describe("colours", () => {
  it("are on only for a terminal without NO_COLOR or TERM=dumb", () => {
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });

  it("leave text alone when off", () => {
    expect(createStyle(false).green("ok")).toBe("ok");
    expect(createStyle(true).green("ok")).toBe("\u001b[32mok\u001b[39m");
    expect(visibleLength(createStyle(true).bold("abc"))).toBe(3);
  });
});

describe("createProgress", () => {
  it("rewrites one line on a terminal and clears it when done", () => {
    const tty = capture(true);
    const progress = createProgress(tty);
    progress.update("checking 1/2");
    progress.done();
    const clearLine = "\r\u001b[2K";
    expect(tty.text.startsWith(clearLine)).toBe(true);
    expect(tty.text.endsWith(` checking 1/2${clearLine}`)).toBe(true);
  });

  it("writes nothing when not a terminal", () => {
    const pipe = capture(false);
    const progress = createProgress(pipe);
    progress.update("checking");
    progress.done();
    expect(pipe.text).toBe("");
  });
});
