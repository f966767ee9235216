/** Writes small datasets in the exact on-disk formats of HAM10000, CheXpert and FairGenMed. */
import { mkdirSync, mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { createRaster, encodeJpeg, encodeNpz, encodePng, type RasterImage } from "../../../src/io";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fairdiff-${prefix}-`));
}

export function writeFile(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** A gradient image whose mean brightness is `level`, so tests can tell images apart. */
export function testImage(
  width: number,
  height: number,
  channels: 1 | 3,
  level: number,
): RasterImage {
  const image = createRaster(width, height, channels);
  for (let i = 0; i < image.data.length; i++) image.data[i] = level;
  return image;
}

export function writeHam10000(root: string): void {
  writeFile(
    join(root, "HAM10000_metadata.csv"),
    [
      "lesion_id,image_id,dx,dx_type,age,sex,localization",
      "HAM_0000118,ISIC_0027419,bkl,histo,80.0,male,scalp",
      "HAM_0000118,ISIC_0025030,bkl,histo,80.0,male,scalp",
      "HAM_0002730,ISIC_0026769,mel,histo,,female,back",
      "HAM_0001466,ISIC_0031633,nv,follow_up,45.0,unknown,trunk",
      "HAM_0002761,ISIC_0029176,xyz,histo,60.0,female,face",
      "HAM_0005132,ISIC_0025837,bcc,histo,70.0,male,face",
    ].join("\n") + "\n",
  );
  const part1 = join(root, "HAM10000_images_part_1");
  const part2 = join(root, "HAM10000_images_part_2");
  writeFile(join(part1, "ISIC_0027419.jpg"), encodeJpeg(testImage(40, 30, 3, 0.2)));
  writeFile(join(part1, "ISIC_0025030.jpg"), encodeJpeg(testImage(40, 30, 3, 0.4)));
  writeFile(join(part2, "ISIC_0026769.jpg"), encodeJpeg(testImage(40, 30, 3, 0.6)));
  writeFile(join(part2, "ISIC_0031633.jpg"), encodeJpeg(testImage(40, 30, 3, 0.8)));
  writeFile(join(part2, "ISIC_0029176.jpg"), encodeJpeg(testImage(40, 30, 3, 0.5)));
  // ISIC_0025837 (row 6) has no image file.
}

export function writeChexpert(root: string): void {
  const base = join(root, "CheXpert-v1.0-small");
  const header =
    "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Lung Opacity,Lung Lesion,Edema,Consolidation,Pneumonia,Atelectasis,Pneumothorax,Pleural Effusion,Pleural Other,Fracture,Support Devices";
  const row = (
    path: string,
    sex: string,
    age: string,
    view: string,
    ap: string,
    cardio: string,
    effusion: string,
  ) =>
    `CheXpert-v1.0-small/${path},${sex},${age},${view},${ap},,,${cardio},,,,,,,,${effusion},,,1.0`;
  writeFile(
    join(base, "train.csv"),
    [
      header,
      row(
        "train/patient00001/study1/view1_frontal.jpg",
        "Female",
        "68",
        "Frontal",
        "AP",
        "",
        "1.0",
      ),
      row(
        "train/patient00002/study2/view1_frontal.jpg",
        "Male",
        "87",
        "Frontal",
        "PA",
        "-1.0",
        "0.0",
      ),
      row(
        "train/patient00002/study2/view2_lateral.jpg",
        "Male",
        "87",
        "Lateral",
        "",
        "-1.0",
        "0.0",
      ),
      row(
        "train/patient00003/study1/view1_frontal.jpg",
        "Unknown",
        "0",
        "Frontal",
        "AP",
        "1.0",
        "-1.0",
      ),
      row(
        "train/patient00004/study1/view1_frontal.jpg",
        "Female",
        "33",
        "Frontal",
        "AP",
        "0.0",
        "",
      ),
    ].join("\n") + "\n",
  );
  writeFile(
    join(base, "train/patient00001/study1/view1_frontal.jpg"),
    encodeJpeg(testImage(48, 40, 1, 0.3)),
  );
  writeFile(
    join(base, "train/patient00002/study2/view1_frontal.jpg"),
    encodeJpeg(testImage(48, 40, 1, 0.5)),
  );
  writeFile(
    join(base, "train/patient00002/study2/view2_lateral.jpg"),
    encodeJpeg(testImage(48, 40, 1, 0.5)),
  );
  writeFile(
    join(base, "train/patient00003/study1/view1_frontal.jpg"),
    encodePng(testImage(48, 40, 1, 0.7)),
  );
  // patient00004's image is corrupt: a JPEG header followed by garbage.
  writeFile(
    join(base, "train/patient00004/study1/view1_frontal.jpg"),
    new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]),
  );
  writeFile(
    join(root, "chexpert_demo.csv"),
    [
      "PATIENT,GENDER,AGE_AT_CXR,PRIMARY_RACE,ETHNICITY",
      "patient00001,Female,68,Black or African American,Non-Hispanic/Non-Latino",
      'patient00002,Male,87,"White, non-Hispanic",Non-Hispanic/Non-Latino',
      "patient00003,Male,0,Other,Unknown",
    ].join("\n"),
  );
}

export function writeFairGenMed(root: string): void {
  const fundus = (level: number) => {
    const data = new Uint8Array(24 * 20).fill(Math.round(level * 255));
    return { data, shape: [24, 20] };
  };
  const scalarInt = (v: number) => ({ data: new Int32Array([v]), shape: [] });
  writeFile(
    join(root, "Training", "data_00001.npz"),
    encodeNpz({
      slo_fundus: fundus(0.2),
      race: { data: ["Black or African American"], shape: [] },
      male: scalarInt(0),
      hispanic: scalarInt(1),
      glaucoma: scalarInt(1),
      age: { data: new Float64Array([61.5]), shape: [] },
    }),
  );
  writeFile(
    join(root, "Test", "data_08001.npz"),
    encodeNpz(
      {
        slo_fundus: fundus(0.6),
        race: scalarInt(0),
        male: scalarInt(1),
        hispanic: scalarInt(-1),
        glaucoma: scalarInt(0),
      },
      false,
    ),
  );
  writeFile(
    join(root, "Training", "data_00002.npz"),
    encodeNpz({
      race: scalarInt(2),
      male: scalarInt(1),
      hispanic: scalarInt(0),
      glaucoma: scalarInt(0),
    }),
  );
  writeFile(
    join(root, "data_summary.csv"),
    [
      "filename,age,gender,race,ethnicity,language,maritalstatus,glaucoma,md_severity,cdr_status,se_status,rnflt_status,use",
      "data_00001.npz,61.5,female,black,hispanic,english,single,yes,mild,abnormal,myopia,low,training",
      "data_08001.npz,70.1,male,asian,unknown,english,married,no,normal,normal,emmetropia,high,test",
      "data_00002.npz,50.0,male,white,non-hispanic,english,married,no,normal,normal,hyperopia,high,training",
      "data_09999.npz,50.0,male,white,non-hispanic,english,married,no,normal,normal,hyperopia,high,test",
    ].join("\n"),
  );
}
