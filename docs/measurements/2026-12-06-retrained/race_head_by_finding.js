// Race-head accuracy on held-out real cohort images, by finding combination.
const f = require("../../../dist/src/index.js");
const { heldOutRealSamples } = require("../../../dist/src/audit");
(async () => {
  await f.useBackend("wasm");
  const clf = f.SubgroupClassifier.load(require("path").join(__dirname, "../../../models/cxr-classifier.fdckpt"));
  const samples = heldOutRealSamples(f.CXR_MINI, { size: 1500, seed: 99 });
  const tf = require("@tensorflow/tfjs-core");
  const imgs = tf.tensor4d(Float32Array.from(samples.flatMap((s) => Array.from(s.image.data))), [samples.length, 32, 32, 1]);
  const heads = await clf.predict(imgs);
  imgs.dispose();
  const race = heads.find((h) => h.task === "race");
  const stats = {};
  samples.forEach((s, i) => {
    const key = `${s.labels["Pleural Effusion"] ? "PE" : "--"} ${s.labels["Cardiomegaly"] ? "CM" : "--"} ${s.attributes.race}`;
    const st = (stats[key] ??= { n: 0, ok: 0, pred: {} });
    st.n++;
    const p = race.classes[race.predicted[i]];
    if (p === s.attributes.race) st.ok++;
    st.pred[p] = (st.pred[p] ?? 0) + 1;
  });
  for (const [k, v] of Object.entries(stats).sort()) console.log(k.padEnd(16), v.n, (v.ok / v.n).toFixed(3), JSON.stringify(v.pred));
})();
