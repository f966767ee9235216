/**
 * The subject of a prompt in one of the anchor datasets' formats (prompts.ts): the words between
 * "… image of a" and "patient" that name the patient's groups ("Male White", "Female Age under
 * 60", "Black Female Hispanic"). Reads them as attribute → group and writes a prompt naming other
 * groups, in the format's own order and words — so a method can ask the original model what it
 * draws for "a Black patient" from the very prompt it was given for "a patient".
 */

interface SubjectSlot {
  /** The attribute as the datasets' classifiers name it. */
  attribute: string;
  /** The prompt's word(s) for each group the format can name. */
  words: Record<string, string>;
}

interface PromptFormat {
  name: string;
  start: string;
  slots: SubjectSlot[];
}

const SEX: SubjectSlot = { attribute: "sex", words: { Female: "Female", Male: "Male" } };
const RACE: SubjectSlot = {
  attribute: "race",
  words: { Asian: "Asian", Black: "Black", White: "White" },
};

/** chexpertPrompt / chestFindingsPrompt, ham10000Prompt and fairGenMedPrompt, in that order. */
const FORMATS: PromptFormat[] = [
  { name: "chest radiograph", start: "Chest Radiography image of a ", slots: [SEX, RACE] },
  {
    name: "HAM10000",
    start: "Dermoscopic image of a ",
    slots: [
      SEX,
      {
        attribute: "ageGroup",
        words: { "under 60": "Age under 60", "60 or older": "Age equal 60 or older" },
      },
    ],
  },
  {
    name: "FairGenMed",
    start: "SLO fundus image of a ",
    slots: [
      RACE,
      SEX,
      {
        attribute: "ethnicity",
        words: { "Non-Hispanic": "Non-Hispanic", Hispanic: "Hispanic" },
      },
    ],
  },
];

const PATIENT = "patient";

export interface PromptSubject {
  format: string;
  /** The groups the prompt names now, attribute → group. */
  groups: Record<string, string>;
  /** The attributes this format can name, each with the groups it has words for. */
  nameable: string[];
  choices: Record<string, string[]>;
  /** The same prompt naming `groups` (merged over the ones it names now). */
  naming(groups: Record<string, string>): string;
}

/** Reads `prompt`'s subject; throws, naming the prompt, when its format is not one of the datasets'. */
export function promptSubject(prompt: string): PromptSubject {
  const format = FORMATS.find((f) => prompt.startsWith(f.start));
  const patient = format ? prompt.indexOf(PATIENT, format.start.length) : -1;
  if (!format || patient < 0) {
    throw new Error(
      `prompt "${prompt}" is in no known format: expected one that starts ${FORMATS.map(
        (f) => `"${f.start}… ${PATIENT}"`,
      ).join(", ")}`,
    );
  }
  const rest = prompt.slice(patient);
  const groups: Record<string, string> = {};
  let words = prompt.slice(format.start.length, patient);
  for (const slot of format.slots) {
    const found = Object.entries(slot.words).find(([, word]) => words.startsWith(word + " "));
    if (found) {
      groups[slot.attribute] = found[0];
      words = words.slice(found[1].length + 1);
    }
  }
  if (words !== "") {
    throw new Error(
      `prompt "${prompt}": cannot read "${words.trim()}" as a ${format.name} subject (${format.slots
        .map((s) => s.attribute)
        .join(", ")})`,
    );
  }
  return {
    format: format.name,
    groups,
    nameable: format.slots.map((s) => s.attribute),
    choices: Object.fromEntries(format.slots.map((s) => [s.attribute, Object.keys(s.words)])),
    naming(named) {
      const merged = { ...groups, ...named };
      const subject = format.slots.flatMap((slot) => {
        const group = merged[slot.attribute];
        if (group === undefined) return [];
        const word = slot.words[group];
        if (word === undefined) {
          throw new Error(
            `a ${format.name} prompt cannot name ${slot.attribute} "${group}": expected one of ${Object.keys(
              slot.words,
            ).join(", ")}`,
          );
        }
        return [word];
      });
      return `${format.start}${subject.map((w) => w + " ").join("")}${rest}`;
    },
  };
}

/** A reader of prompt subjects that reads each distinct prompt once (a step repeats its prompt). */
export function promptSubjectReader(): (prompt: string) => PromptSubject {
  const subjects = new Map<string, PromptSubject>();
  return (prompt) => {
    let subject = subjects.get(prompt);
    if (!subject) {
      subject = promptSubject(prompt);
      subjects.set(prompt, subject);
    }
    return subject;
  };
}
