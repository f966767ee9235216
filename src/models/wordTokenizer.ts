/**
 * Word-level tokenizer with a vocabulary built from the training prompts. Prompts are
 * lower-cased and split on anything that is not a letter or digit; words never seen in
 * training become [UNK]; every sequence starts with [BOS] (so an empty prompt — the
 * classifier-free-guidance null prompt — still has one real token) and is padded to maxLength.
 */

export const PAD_TOKEN = "[PAD]";
export const UNK_TOKEN = "[UNK]";
export const BOS_TOKEN = "[BOS]";
const SPECIAL_TOKENS = [PAD_TOKEN, UNK_TOKEN, BOS_TOKEN];

export interface TokenizerJSON {
  kind: "word";
  vocabulary: string[];
  maxLength: number;
}

export interface TokenizeOptions {
  /** What to do with a prompt longer than maxLength − 1 words (default: throw). */
  overflow?: "error" | "truncate";
}

export interface EncodedPrompts {
  /** Token ids, [batch × maxLength] row-major. */
  ids: Int32Array;
  /** 1 for real tokens ([BOS] and words), 0 for padding; same layout as ids. */
  mask: Float32Array;
  batch: number;
  maxLength: number;
}

export interface VocabularyOptions {
  /** Sequence length including [BOS]; default: longest training prompt + 1, at least 8. */
  maxLength?: number;
  /** Drop words seen fewer times than this (they map to [UNK]). */
  minCount?: number;
}

export function splitWords(prompt: string): string[] {
  return prompt
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

export class WordTokenizer {
  readonly vocabulary: readonly string[];
  readonly maxLength: number;
  private readonly index: Map<string, number>;

  constructor(vocabulary: string[], maxLength: number) {
    SPECIAL_TOKENS.forEach((token, i) => {
      if (vocabulary[i] !== token) {
        throw new Error(
          `vocabulary must start with ${SPECIAL_TOKENS.join(", ")}; got ${vocabulary.slice(0, 3).join(", ")}`,
        );
      }
    });
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new Error(`maxLength must be an integer ≥ 2, got ${maxLength}`);
    }
    this.vocabulary = [...vocabulary];
    this.maxLength = maxLength;
    this.index = new Map(vocabulary.map((word, i) => [word, i]));
    if (this.index.size !== vocabulary.length) throw new Error("vocabulary has duplicate entries");
  }

  /** Builds the vocabulary from training prompts: most frequent first, ties alphabetical. */
  static fromPrompts(prompts: Iterable<string>, options: VocabularyOptions = {}): WordTokenizer {
    const counts = new Map<string, number>();
    let longest = 0;
    for (const prompt of prompts) {
      const words = splitWords(prompt);
      longest = Math.max(longest, words.length);
      for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    const minCount = options.minCount ?? 1;
    const words = [...counts.entries()]
      .filter(([, n]) => n >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([word]) => word);
    const maxLength = options.maxLength ?? Math.max(8, longest + 1);
    return new WordTokenizer([...SPECIAL_TOKENS, ...words], maxLength);
  }

  static fromJSON(json: TokenizerJSON): WordTokenizer {
    if (json.kind !== "word") throw new Error(`not a word tokenizer: kind "${String(json.kind)}"`);
    return new WordTokenizer(json.vocabulary, json.maxLength);
  }

  toJSON(): TokenizerJSON {
    return { kind: "word", vocabulary: [...this.vocabulary], maxLength: this.maxLength };
  }

  get vocabularySize(): number {
    return this.vocabulary.length;
  }

  get padId(): number {
    return 0;
  }

  get unknownId(): number {
    return 1;
  }

  get bosId(): number {
    return 2;
  }

  /** Ids of one prompt's tokens: [BOS] then its words (unknown words → [UNK]), unpadded. */
  tokenize(prompt: string, options: TokenizeOptions = {}): number[] {
    let words = splitWords(prompt);
    if (words.length > this.maxLength - 1) {
      if ((options.overflow ?? "error") === "error") {
        throw new Error(
          `prompt has ${words.length} words, the tokenizer reads at most ${this.maxLength - 1}: "${prompt}"`,
        );
      }
      words = words.slice(0, this.maxLength - 1);
    }
    return [this.bosId, ...words.map((w) => this.index.get(w) ?? this.unknownId)];
  }

  /** Padded ids and masks for a batch of prompts. */
  encode(prompts: string[], options: TokenizeOptions = {}): EncodedPrompts {
    const ids = new Int32Array(prompts.length * this.maxLength);
    const mask = new Float32Array(prompts.length * this.maxLength);
    prompts.forEach((prompt, row) => {
      this.tokenize(prompt, options).forEach((id, col) => {
        ids[row * this.maxLength + col] = id;
        mask[row * this.maxLength + col] = 1;
      });
    });
    return { ids, mask, batch: prompts.length, maxLength: this.maxLength };
  }

  /** Words of a prompt the vocabulary does not know (to warn a user before sampling). */
  unknownWords(prompt: string): string[] {
    return splitWords(prompt).filter((w) => !this.index.has(w));
  }

  /**
   * What a user should know before sampling from `prompt`: that it is empty (the images are
   * unconditional), that words were never seen in training, or that words past the model's
   * length are ignored. Empty when the prompt is read as written.
   */
  promptNotes(prompt: string): string[] {
    const words = splitWords(prompt);
    if (words.length === 0) {
      return [
        "the prompt has no words: the images are unconditional (what the model draws when nothing is asked)",
      ];
    }
    const notes: string[] = [];
    const unknown = [...new Set(words.filter((w) => !this.index.has(w)))];
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 10).join(", ");
      const more = unknown.length > 10 ? ` and ${unknown.length - 10} more` : "";
      notes.push(`words the model never saw in training: ${shown}${more}`);
    }
    const readable = this.maxLength - 1;
    if (words.length > readable) {
      notes.push(
        `the prompt has ${words.length} words; the model reads the first ${readable} and ignores the rest`,
      );
    }
    return notes;
  }

  decode(ids: ArrayLike<number>): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.padId || id === this.bosId) continue;
      words.push(this.vocabulary[id] ?? UNK_TOKEN);
    }
    return words.join(" ");
  }
}
