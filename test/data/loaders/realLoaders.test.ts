import { readFileSync } from "fs";
import { join } from "path";
import { loadChexpert, loadCsvImageFolder, loadFairGenMed, loadHam10000 } from "../../../src/data";
import { encodePng } from "../../../src/io";
import {
  tempDir,
  testImage,
  writeChexpert,
  writeFairGenMed,
  writeFile,
  writeHam10000,
} from "./fixtures";

function meanOf(data: Float32Array): number {
  return data.reduce((a, b) => a + b, 0) / data.length;
}

describe("HAM10000 loader", () => {
  const root = tempDir("ham");
  writeHam10000(root);

  test("fails on the first bad row, naming it", () => {
    expect(() => loadHam10000({ root })).toThrow(/row 5: unknown dx "xyz" for image ISIC_0029176/);
  });

  test("a row cut short is an error naming its line, or a skipped row — never empty values", () => {
    const shortRoot = tempDir("ham-short");
    writeHam10000(shortRoot);
    const csv = join(shortRoot, "HAM10000_metadata.csv");
    const lines = readFileSync(csv, "utf8").split("\n");
    // The 80-year-old's sex and localization are lost: not "no sex", a damaged row.
    lines[1] = "HAM_0000118,ISIC_0027419,bkl,histo,80.0";
    writeFile(csv, lines.join("\n"));
    expect(() => loadHam10000({ root: shortRoot })).toThrow(
      /line 2 has 5 fields, the header has 7 \(a row cut short/,
    );
    const ds = loadHam10000({ root: shortRoot, skipInvalid: true });
    expect(ds.skipReport.byReason["row cut short"]).toBe(1);
    expect(ds.records.map((r) => r.id)).not.toContain("ISIC_0027419");
  });

  test("skipInvalid reports how many rows were skipped and why", async () => {
    const ds = loadHam10000({ root, skipInvalid: true, imageSize: 16 });
    expect(ds.skipReport.skipped).toBe(2);
    expect(ds.skipReport.byReason).toEqual({ "unknown dx": 1, "missing image": 1 });
    expect(ds.skipReport.examples[1].reason).toMatch(/ISIC_0025837.jpg not found/);
    expect(ds.records.map((r) => r.id)).toEqual([
      "ISIC_0027419",
      "ISIC_0025030",
      "ISIC_0026769",
      "ISIC_0031633",
    ]);
    const [older, , noAge, unknownSex] = ds.records;
    expect(older.prompt).toBe(
      "Dermoscopic image of a Male Age equal 60 or older patient with the following diagnostic category: benign",
    );
    expect(older.details.lesion_id).toBe("HAM_0000118");
    // Empty age: kept without an age group; unknown sex: kept without sex.
    expect(noAge.attributes).toEqual({ sex: "Female" });
    expect(noAge.labels.malignant).toBe(1);
    expect(noAge.prompt).toBe(
      "Dermoscopic image of a Female patient with the following diagnostic category: malignant",
    );
    expect(unknownSex.attributes).toEqual({ ageGroup: "under 60" });
    const sample = await ds.load(2);
    expect(sample.image).toMatchObject({ width: 16, height: 16, channels: 3 });
    expect(meanOf(sample.image.data)).toBeCloseTo(0.6, 1);
    // Second load comes from the decoded-image cache.
    await ds.load(2);
    expect(ds.cache.hits).toBe(1);
  });

  test("requireAttributes skips rows with unknown sex or age", () => {
    const ds = loadHam10000({ root, skipInvalid: true, requireAttributes: true });
    expect(ds.skipReport.byReason).toMatchObject({ "missing age": 1, "unknown sex": 1 });
    expect(ds.records).toHaveLength(2);
  });

  test("a missing metadata column is named", () => {
    const bad = tempDir("ham-bad");
    writeFile(join(bad, "HAM10000_metadata.csv"), "lesion_id,image_id,diagnosis,age,sex\n");
    expect(() => loadHam10000({ root: bad })).toThrow(/unknown column "dx"/);
  });
});

describe("CheXpert loader", () => {
  const root = tempDir("chexpert");
  writeChexpert(root);

  test("frontal views, U-Zeros by default, race from the demographics table", async () => {
    const ds = loadChexpert({
      root,
      demographicsCsv: join(root, "chexpert_demo.csv"),
      imageSize: 8,
    });
    expect(ds.records).toHaveLength(4);
    expect(ds.skipReport.byReason).toEqual({ "lateral view": 1 });
    const [first, second, third, fourth] = ds.records;
    expect(first.prompt).toBe(
      "Chest Radiography image of a Female Black patient diagnosed with Pleural Effusion",
    );
    expect(first.attributes).toEqual({ sex: "Female", race: "Black", ageBand: "65+" });
    expect(second.labels).toEqual({ "Pleural Effusion": 0, Cardiomegaly: 0 }); // -1 → 0
    expect(second.attributes.race).toBe("White");
    // Sex Unknown, Age 0 and race Other: all left out, not guessed.
    expect(third.attributes).toEqual({});
    expect(third.prompt).toBe(
      "Chest Radiography image of a patient diagnosed with non Pleural Effusion",
    );
    expect(fourth.labels).toEqual({ "Pleural Effusion": 0, Cardiomegaly: 0 }); // blank → 0
    const image = (await ds.load(0)).image;
    expect(image).toMatchObject({ width: 8, height: 8, channels: 1 });
    expect(meanOf(image.data)).toBeCloseTo(0.3, 1);
    // The corrupt file fails when its image is decoded, naming the file.
    await expect(ds.load(3)).rejects.toThrow(
      /cannot decode image .*patient00004.*view1_frontal.jpg/,
    );
  });

  test("uncertain policies: U-Ones and skip", () => {
    const ones = loadChexpert({ root, uncertain: "ones" });
    expect(ones.records[1].labels.Cardiomegaly).toBe(1);
    expect(ones.records[2].labels["Pleural Effusion"]).toBe(1);
    expect(() => loadChexpert({ root, uncertain: "skip" })).toThrow(
      /row 2: uncertain \(-1\) Cardiomegaly/,
    );
    const skipped = loadChexpert({ root, uncertain: "skip", skipInvalid: true, views: "all" });
    expect(skipped.skipReport.byReason).toEqual({ "uncertain label": 3 });
    expect(() => loadChexpert({ root, uncertain: "maybe" as never })).toThrow(/got "maybe"/);
  });

  test("a root pointing inside the dataset folder and unknown finding columns", () => {
    const inner = loadChexpert({
      root: join(root, "CheXpert-v1.0-small"),
      csv: join(root, "CheXpert-v1.0-small/train.csv"),
    });
    expect(inner.records).toHaveLength(4);
    expect(() => loadChexpert({ root, findings: ["Pleural Efusion"] })).toThrow(
      /unknown column "Pleural Efusion"/,
    );
  });
});

describe("FairGenMed loader", () => {
  const root = tempDir("fairgenmed");
  writeFairGenMed(root);

  test("errors name the missing key, then skipInvalid reports both bad rows", async () => {
    expect(() => loadFairGenMed({ root })).toThrow(/data_00002.npz: no "slo_fundus" array/);
    const ds = loadFairGenMed({ root, skipInvalid: true, imageSize: 10 });
    expect(ds.skipReport.byReason).toEqual({ "bad npz": 1, "missing file": 1 });
    expect(ds.records).toHaveLength(2);
    const [first, second] = ds.records;
    expect(first.prompt).toBe(
      "SLO fundus image of a Black Female Hispanic patient with the following conditions: glaucoma, mild vision loss, abnormal cup-disc ratio, myopia",
    );
    expect(first.details.use).toBe("training");
    // race index 0 = Asian; hispanic -1 = unknown, left out.
    expect(second.attributes).toEqual({ race: "Asian", sex: "Male" });
    expect(second.prompt).toBe(
      "SLO fundus image of a Asian Male patient with the following conditions: non-glaucoma, normal vision, normal cup-disc ratio, emmetropia",
    );
    const image = (await ds.load(1)).image;
    expect(image).toMatchObject({ width: 10, height: 10, channels: 3 });
    expect(meanOf(image.data)).toBeCloseTo(0.6, 2);
  });
});

describe("generic CSV + image folder loader", () => {
  const root = tempDir("generic");
  writeFile(
    join(root, "labels.csv"),
    [
      "file,gender,diagnosis",
      "a.png,F,pneumonia",
      "b.png,M,normal",
      "c.png,X,normal",
      "d.png,?,normal",
    ].join("\n"),
  );
  for (const f of ["a", "b", "c", "d"])
    writeFile(join(root, "img", `${f}.png`), encodePng(testImage(12, 12, 3, 0.5)));
  const base = {
    csvPath: join(root, "labels.csv"),
    imageRoot: join(root, "img"),
    pathColumn: "file",
    attributes: {
      sex: {
        column: "gender",
        groups: ["Female", "Male"],
        values: { F: "Female", M: "Male", "?": null },
      },
    },
    findings: { pneumonia: { column: "diagnosis", positive: ["pneumonia"], negative: ["normal"] } },
    imageSize: 6,
  };

  test("maps columns, treats null-mapped values as unknown and names unmapped values", async () => {
    expect(() => loadCsvImageFolder(base)).toThrow(
      /row 3: gender value "X" maps to no group of "sex"/,
    );
    const ds = loadCsvImageFolder({ ...base, skipInvalid: true });
    expect(ds.skipReport.byReason).toEqual({ "unknown sex value": 1 });
    expect(ds.records.map((r) => r.attributes)).toEqual([{ sex: "Female" }, { sex: "Male" }, {}]);
    expect(ds.records[0].prompt).toBe("Medical image of a Female patient with pneumonia");
    expect((await ds.load(1)).image).toMatchObject({ width: 6, height: 6, channels: 3 });
  });

  test("unknown columns are named", () => {
    expect(() => loadCsvImageFolder({ ...base, pathColumn: "filename" })).toThrow(
      /unknown column "filename"/,
    );
  });
});
