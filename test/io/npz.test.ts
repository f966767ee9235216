import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { encodeNpy, encodeNpz, openNpz, openNpzFile, parseNpy } from "../../src/io";

/** Written by numpy 2.4 with np.savez_compressed (deflate): a FairGenMed-like record. */
const NUMPY_COMPRESSED =
  "UEsDBC0AAAAIAAAAIQA4dVta//////////8OABQAc2xvX2Z1bmR1cy5ucHkBABAAjAAAAAAAAABSAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GsY6CiaaOgq1CmQDLgZGJmYWVjZ2Dk4ubgBQSwMELQAAAAgAAAAhAA3EguL//////////wgAFAByYWNlLm5weQEAEADkAAAAAAAAAGwAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbhNqZKquo6Cell9UUpSYF59flJIKknBLzClOBYoXZyQWpAL5Gpo6CrUKlAAuJwYGhhwgTgTiZCDOBmIFIM4H4iIo2xGI06D8TKg6kPo8JPlcIE7FoQYAUEsDBC0AAAAIAAAAIQCksZ+q//////////8IABQAbWFsZS5ucHkBABAAiAAAAAAAAABGAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5Gpo6CrUKFAEuRgYIAABQSwMELQAAAAgAAAAhAE+xUyL//////////wwAFABoaXNwYW5pYy5ucHkBABAAiAAAAAAAAABFAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5Gpo6CrUKFAGu/1AAAFBLAwQtAAAACAAAACEAIfxQI///////////DAAUAGdsYXVjb21hLm5weQEAEACIAAAAAAAAAEcAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNmoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkamjoKtQoUAS4GMPhgDwBQSwMELQAAAAgAAAAhAM4s4NP//////////wUAFABmLm5weQEAEACYAAAAAAAAAFYAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNmoq6joJ6WX1RSlJgXn1+UkgoSDykqTQUKF2ckFqQCuRpGOgrGmjoKtQrkAy4GMHBwYGBosAdiBxCHgWGBAwBQSwECLQMtAAAACAAAACEAOHVbWlIAAACMAAAADgAAAAAAAAAAAAAAgAEAAAAAc2xvX2Z1bmR1cy5ucHlQSwECLQMtAAAACAAAACEADcSC4mwAAADkAAAACAAAAAAAAAAAAAAAgAGSAAAAcmFjZS5ucHlQSwECLQMtAAAACAAAACEApLGfqkYAAACIAAAACAAAAAAAAAAAAAAAgAE4AQAAbWFsZS5ucHlQSwECLQMtAAAACAAAACEAT7FTIkUAAACIAAAADAAAAAAAAAAAAAAAgAG4AQAAaGlzcGFuaWMubnB5UEsBAi0DLQAAAAgAAAAhACH8UCNHAAAAiAAAAAwAAAAAAAAAAAAAAIABOwIAAGdsYXVjb21hLm5weVBLAQItAy0AAAAIAAAAIQDOLODTVgAAAJgAAAAFAAAAAAAAAAAAAACAAcACAABmLm5weVBLBQYAAAAABgAGAE8BAABNAwAAAAA=";
/** Written by numpy with np.savez (stored): big-endian float64 and booleans. */
const NUMPY_STORED =
  "UEsDBC0AAAAAAAAAIQBXA5Uf//////////8FABQAYS5ucHkBABAAkAAAAAAAAACQAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJz5mOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKP/gAAAAAAADAAAAAAAAAAFBLAwQtAAAAAAAAACEA7hm7Xf//////////BQAUAGIubnB5AQAQAIIAAAAAAAAAggAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICd8YjEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgEAUEsBAi0DLQAAAAAAAAAhAFcDlR+QAAAAkAAAAAUAAAAAAAAAAAAAAIABAAAAAGEubnB5UEsBAi0DLQAAAAAAAAAhAO4Zu12CAAAAggAAAAUAAAAAAAAAAAAAAIABxwAAAGIubnB5UEsFBgAAAAACAAIAZgAAAIABAAAAAA==";

describe("npz reader", () => {
  test("reads a real numpy savez_compressed archive (deflate, unicode scalar, Fortran order)", () => {
    const npz = openNpz(Buffer.from(NUMPY_COMPRESSED, "base64"), "fixture.npz");
    expect([...npz.names].sort()).toEqual([
      "f",
      "glaucoma",
      "hispanic",
      "male",
      "race",
      "slo_fundus",
    ]);
    const image = npz.get("slo_fundus");
    expect(image.dtype).toBe("|u1");
    expect(image.shape).toEqual([3, 4]);
    expect(Array.from(image.data as Uint8Array)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(npz.get("race").data).toEqual(["Black or African American"]);
    expect(npz.get("race").shape).toEqual([]);
    expect(Array.from(npz.get("male").data as Float64Array)).toEqual([1]);
    expect(Array.from(npz.get("hispanic").data as Float64Array)).toEqual([-1]);
    expect(Array.from(npz.get("glaucoma").data as Float64Array)).toEqual([1]);
    // Stored column-major by numpy; returned in C order.
    expect(Array.from(npz.get("f").data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => npz.get("oct_bscans")).toThrow(/fixture.npz: no array "oct_bscans"/);
  });

  test("reads a stored (uncompressed) archive with big-endian and boolean arrays", () => {
    const npz = openNpz(Buffer.from(NUMPY_STORED, "base64"));
    expect(Array.from(npz.get("a").data as Float64Array)).toEqual([1.5, -2]);
    expect(Array.from(npz.get("b").data as Uint8Array)).toEqual([1, 0]);
  });

  test("round-trips our own writer, stored and deflated, from memory and from a file", () => {
    const arrays = {
      image: { data: new Float32Array([0.25, 0.5, 0.75, 1]), shape: [2, 2] },
      race: { data: ["Asian"], shape: [] },
      label: { data: new Int32Array([1]), shape: [1] },
    };
    for (const compress of [false, true]) {
      const bytes = encodeNpz(arrays, compress);
      const npz = openNpz(bytes);
      expect(Array.from(npz.get("image").data as Float32Array)).toEqual([0.25, 0.5, 0.75, 1]);
      expect(npz.get("race").data).toEqual(["Asian"]);
      const dir = mkdtempSync(join(tmpdir(), "npz-"));
      writeFileSync(join(dir, "x.npz"), bytes);
      const onDisk = openNpzFile(join(dir, "x.npz"));
      expect(Array.from(onDisk.get("label").data as Int32Array)).toEqual([1]);
      onDisk.close();
    }
  });

  test("corrupt input is an error naming the archive and key", () => {
    const bytes = encodeNpz({ x: { data: new Uint8Array(64).fill(7), shape: [64] } }, true);
    const flipped = bytes.slice();
    flipped[40] ^= 0xff; // inside the deflate stream
    expect(() => openNpz(flipped, "bad.npz").get("x")).toThrow(
      /bad.npz:x.npy: (corrupt deflate|CRC)/,
    );
    expect(() => openNpz(new Uint8Array(100), "zeros.npz")).toThrow(
      /zeros.npz: not a ZIP\/npz archive/,
    );
    expect(() => parseNpy(new Uint8Array(20), "y.npy")).toThrow(/y.npy: not a .npy array/);
    const npy = encodeNpy(new Float32Array(4), [4]);
    expect(() => parseNpy(npy.subarray(0, npy.length - 3), "t.npy")).toThrow(/t.npy: truncated/);
    const pickled = new TextEncoder().encode(
      "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
    );
    const header = new Uint8Array(10 + pickled.length);
    header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, pickled.length, 0]);
    header.set(pickled, 10);
    expect(() => parseNpy(header, "o.npy")).toThrow(/object \(pickled\) arrays are not supported/);
  });
});
