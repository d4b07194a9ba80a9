"""fwsetup smoke test for the Kaldi 'pieces' variant: kaldi-native-fbank features of a sine wave."""

import json
import os
import math
import sys
import time

# Run as "python <name>.py": the script's own folder is sys.path[0], so theano.py would import
# itself as "theano". Drop that folder before importing the framework.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _mel(f):
    return 1127.0 * math.log(1.0 + f / 700.0)


def main(device_arg):
    started = time.time()
    import numpy as np
    import kaldi_native_fbank as knf

    rate = 16000
    bins = 80
    low = 20.0
    high = rate / 2.0

    def fbank(freq):
        opts = knf.FbankOptions()
        opts.frame_opts.dither = 0
        opts.frame_opts.samp_freq = rate
        opts.mel_opts.num_bins = bins
        opts.mel_opts.low_freq = low
        opts.mel_opts.high_freq = 0  # 0 means the Nyquist frequency
        t = np.arange(rate, dtype=np.float32) / rate
        wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        fb = knf.OnlineFbank(opts)
        fb.accept_waveform(rate, wave.tolist())
        fb.input_finished()
        return np.array([fb.get_frame(i) for i in range(fb.num_frames_ready)])

    # Mel bin i is centred at mel_low + (i + 1) * delta (Kaldi's MelBanks layout).
    delta = (_mel(high) - _mel(low)) / (bins + 1)

    def centre_hz(i):
        return 700.0 * (math.exp((_mel(low) + (i + 1) * delta) / 1127.0) - 1.0)

    f1 = fbank(1000.0)
    f2 = fbank(3000.0)
    # 1 s at 16 kHz, 25 ms window, 10 ms shift, snip_edges: 1 + (16000 - 400) // 160 = 98 frames.
    shape = f1.shape == (98, bins) and f2.shape == (98, bins)
    finite = bool(np.isfinite(f1).all() and np.isfinite(f2).all())
    peak1 = int(np.argmax(f1.mean(axis=0)))
    peak2 = int(np.argmax(f2.mean(axis=0)))
    # The loudest mel bin sits at the sine's frequency (within about one bin's spacing).
    near1 = abs(centre_hz(peak1) - 1000.0) < (centre_hz(peak1 + 1) - centre_hz(peak1 - 1))
    near2 = abs(centre_hz(peak2) - 3000.0) < (centre_hz(peak2 + 1) - centre_hz(peak2 - 1))
    checks = {"shape": shape, "finite": finite, "peak_at_1000hz": near1, "peak_at_3000hz": near2,
              "higher_tone_higher_bin": peak2 > peak1}
    return {
        "ok": all(checks.values()),
        "framework": "kaldi-native-fbank",
        "framework_version": getattr(knf, "__version__", "unknown"),
        "device": "cpu",
        "checks": checks,
        "details": {"frames": int(f1.shape[0]), "peak_bins": [peak1, peak2],
                    "peak_centres_hz": [round(centre_hz(peak1), 1), round(centre_hz(peak2), 1)]},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
