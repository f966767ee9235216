{
  "targets": [
    {
      "target_name": "fairdiff_exact",
      "type": "static_library",
      "sources": ["src/adamw.cc"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-fPIC"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno"]
      }
    },
    {
      "target_name": "fairdiff_native",
      "dependencies": ["fairdiff_exact"],
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/gemm.cc",
        "src/norm.cc",
        "src/threadPool.cc"
      ],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-ffp-contract=fast", "-fno-math-errno"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-march=native", "-ffp-contract=fast"]
      }
    }
  ]
}
