import { WordTokenizer, splitWords } from "../../src/models/wordTokenizer";
import { PROMPTS } from "./tinyModels";

describe("WordTokenizer", () => {
  const tokenizer = WordTokenizer.fromPrompts(PROMPTS);

  test("vocabulary: specials first, then training words by frequency", () => {
    expect(tokenizer.vocabulary.slice(0, 3)).toEqual(["[PAD]", "[UNK]", "[BOS]"]);
    // "chest", "radiograph", "of", "a", "patient", "with" appear in all 4 prompts.
    expect(tokenizer.vocabulary.slice(3, 9)).toEqual([
      "a",
      "chest",
      "of",
      "patient",
      "radiograph",
      "with",
    ]);
    expect(new Set(tokenizer.vocabulary).size).toBe(tokenizer.vocabularySize);
    expect(tokenizer.maxLength).toBe(10); // 9 words + [BOS]
  });

  test("splits on punctuation, lower-cases, keeps digits", () => {
    expect(splitWords("Age ≥60, Female;  X-ray")).toEqual(["age", "60", "female", "x", "ray"]);
  });

  test("unknown words become [UNK]; sequences start with [BOS] and are padded", () => {
    const { ids, mask, batch, maxLength } = tokenizer.encode([
      "female patient with cardiomegaly",
      "",
    ]);
    expect(batch).toBe(2);
    const row0 = Array.from(ids.slice(0, maxLength));
    expect(row0[0]).toBe(tokenizer.bosId);
    expect(row0[4]).toBe(tokenizer.unknownId);
    expect(row0.slice(5)).toEqual(new Array(maxLength - 5).fill(tokenizer.padId));
    expect(Array.from(mask.slice(0, maxLength))).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    // The null prompt is just [BOS].
    expect(Array.from(mask.slice(maxLength))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(tokenizer.unknownWords("female patient with cardiomegaly")).toEqual(["cardiomegaly"]);
    expect(tokenizer.decode(row0)).toBe("female patient with [UNK]");
  });

  test("too-long prompts fail by default or are truncated on request", () => {
    const long = "a b c d e f g h i j k";
    expect(() => tokenizer.encode([long])).toThrow(/11 words.*at most 9/);
    const { ids } = tokenizer.encode([long], { overflow: "truncate" });
    expect(ids.length).toBe(10);
  });

  test("JSON round trip keeps ids", () => {
    const copy = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    expect(Array.from(copy.encode(PROMPTS).ids)).toEqual(Array.from(tokenizer.encode(PROMPTS).ids));
  });

  test("minCount drops rare words to [UNK]", () => {
    const strict = WordTokenizer.fromPrompts(PROMPTS, { minCount: 3 });
    expect(strict.vocabulary).not.toContain("effusion");
    expect(strict.tokenize("pleural effusion").slice(1)).toEqual([
      strict.unknownId,
      strict.unknownId,
    ]);
  });
});
