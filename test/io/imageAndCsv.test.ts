import {
  createRaster,
  decodeImage,
  drawText,
  encodeJpeg,
  encodePng,
  parseCsv,
  resizeImage,
  textWidth,
  toGrayscale,
} from "../../src/io";

describe("image codec", () => {
  test("PNG round-trips exactly in RGB and grayscale; JPEG within lossy tolerance", () => {
    const rgb = createRaster(5, 4, 3);
    for (let i = 0; i < rgb.data.length; i++) rgb.data[i] = (i % 7) / 6;
    const back = decodeImage(encodePng(rgb), "rgb.png");
    expect(back.channels).toBe(3);
    back.data.forEach((v, i) => expect(Math.abs(v - rgb.data[i])).toBeLessThan(1 / 255));
    const gray = toGrayscale(rgb);
    expect(decodeImage(encodePng(gray), "g.png").channels).toBe(1);
    const flat = createRaster(16, 16, 3, 0.5);
    const jpeg = decodeImage(encodeJpeg(flat), "flat.jpg");
    expect(jpeg).toMatchObject({ width: 16, height: 16 });
    jpeg.data.forEach((v) => expect(Math.abs(v - 0.5)).toBeLessThan(0.03));
    expect(decodeImage(encodePng(rgb), "x.png", 1).channels).toBe(1);
  });

  test("non-image and corrupt files are errors naming the file", () => {
    expect(() => decodeImage(new TextEncoder().encode("hello"), "notes.txt")).toThrow(
      /cannot decode image notes.txt: not a PNG or JPEG/,
    );
    const png = encodePng(createRaster(8, 8, 3, 0.2));
    expect(() => decodeImage(png.subarray(0, 30), "cut.png")).toThrow(
      /cannot decode image cut.png: corrupt png/,
    );
    expect(() => decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]), "bad.jpg")).toThrow(
      /cannot decode image bad.jpg: corrupt jpeg/,
    );
  });
});

describe("resize", () => {
  test("area-averages when shrinking and interpolates when enlarging", () => {
    const im = createRaster(4, 4, 1);
    im.data.set([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(resizeImage(im, 2, 2).data)).toEqual([1, 0, 0, 1]);
    const small = createRaster(2, 1, 1);
    small.data.set([0, 1]);
    const big = resizeImage(small, 4, 1).data;
    expect(big[0]).toBe(0);
    expect(big[3]).toBe(1);
    expect(big[1]).toBeGreaterThan(0);
    expect(big[1]).toBeLessThan(big[2]);
  });
});

describe("bitmap font", () => {
  test("draws ink inside the text box only", () => {
    const im = createRaster(40, 10, 1);
    drawText(im, "AB", 1, 1, 1);
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 40; x++) {
        const ink = im.data[y * 40 + x] > 0;
        if (x >= 1 && x < 1 + textWidth("AB") && y >= 1 && y < 8) inside += ink ? 1 : 0;
        else outside += ink ? 1 : 0;
      }
    expect(inside).toBeGreaterThan(20);
    expect(outside).toBe(0);
  });
});

describe("CSV", () => {
  test("quotes, doubled quotes, embedded newlines, CRLF and BOM", () => {
    const table = parseCsv('\ufeffa,b,c\r\n1,"x, ""y""",3\r\n2,"multi\nline",\r\n\r\n', "t.csv");
    expect(table.header).toEqual(["a", "b", "c"]);
    expect(table.rows).toEqual([
      ["1", 'x, "y"', "3"],
      ["2", "multi\nline", ""],
    ]);
    expect(table.column("c")).toBe(2);
    expect(() => table.column("d")).toThrow(/t.csv: unknown column "d" \(columns: a, b, c\)/);
    expect(() => parseCsv('a\n"open', "u.csv")).toThrow(/u.csv: unterminated quoted field/);
  });

  test("a row cut short is an error naming its line, not a row of empty (absent) values", () => {
    const text = 'Path,Sex,Pleural Effusion\na.png,"Female",1\nb.png,"Ma\nle"\nc.png,Male,0\n';
    expect(() => parseCsv(text, "train.csv")).toThrow(
      "train.csv: line 3 has 2 fields, the header has 3 (a row cut short; an empty value still needs its comma)",
    );
  });
});
