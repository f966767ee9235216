{
  "variables": {
    "cpu_flag%": "-march=native"
  },
  "conditions": [
    ["target_arch=='arm64'", {"variables": {"cpu_flag": "-mcpu=native"}}]
  ],
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-O3", "<(cpu_flag)", "-fno-math-errno", "-fPIC"],
    "xcode_settings": {
      "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "<(cpu_flag)", "-fno-math-errno"]
    }
  },
  "targets": [
    {
      "target_name": "fairdiff_exact",
      "type": "static_library",
      "sources": ["src/adamw.cc"],
      "cflags_cc": ["-ffp-contract=off"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"] }
    },
    {
      "target_name": "fairdiff_native",
      "dependencies": ["fairdiff_exact"],
      "sources": [
        "src/activation.cc",
        "src/attention.cc",
        "src/addon.cc",
        "src/broadcast.cc",
        "src/commands.cc",
        "src/conv.cc",
        "src/gemm.cc",
        "src/norm.cc",
        "src/threadPool.cc"
      ],
      "cflags_cc": ["-ffp-contract=fast"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=fast"] }
    },
    {
      "target_name": "fairdiff_heap_guard",
      "sources": ["src/heapGuard.cc"],
      "cflags_cc!": ["<(cpu_flag)"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS!": ["<(cpu_flag)"] }
    }
  ]
}
