// `npm run demo` (Linux, root): a local exchange and three nodes on loopback, the mesh
// deployed by the real program, one sample image written on node01 and timed until
// node02 and node03 serve it. The cluster stays up to play with until Ctrl-C.
import { randomBytes } from "crypto";
import { fetchImage, startCluster, SYNC_DIR, waitFor, writeImage } from "../testing/harness/cluster";

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error("The demo makes test hosts (mount namespaces, loop devices): run it as root on Linux.");
    process.exit(1);
  }
  console.log("Starting an exchange and three nodes on 127.0.50.x ...");
  const t0 = Date.now();
  const live = await startCluster(3, {
    root: "/tmp/lsc-demo",
    addressBase: "127.0.50",
    log: (line) => line.startsWith("✓") && console.log(`  ${line}`),
  });
  const stop = async () => {
    console.log("\nStopping the demo cluster and cleaning up ...");
    await live.hosts.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  console.log(`Deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s (${live.deployment.ran.length} remote commands over SSH).`);

  const [node01, node02, node03] = live.hosts.nodes;
  const image = randomBytes(300 * 1024);
  const start = Date.now();
  await writeImage(live.hosts, node01, "demo.jpg", image);
  const times = await Promise.all(
    [node02, node03].map((n) =>
      waitFor(`demo.jpg on ${n.name}`, async () => (await fetchImage(n, "demo.jpg"))?.equals(image) ?? false, 30_000, 10),
    ),
  );
  console.log(
    `\nWrote a 300 kB image on node01; served byte-identical by node02 after ${times[0]} ms, node03 after ${times[1]} ms (${Date.now() - start} ms overall).\n`,
  );
  console.log("The cluster stays up. Try:");
  for (const h of live.hosts.hosts) {
    console.log(
      `  ${h.name.padEnd(9)} ssh -i ${live.hosts.operatorKeyPath} -o UserKnownHostsFile=${live.hosts.knownHostsPath} root@${h.address}   (sync dir ${SYNC_DIR})`,
    );
  }
  console.log(`  write:  echo hello | ssh ... root@${node02.address} 'cat > ${SYNC_DIR}/hello.txt'`);
  console.log(`  fetch:  curl http://${node01.address}/hello.txt   http://${node03.address}/demo.jpg`);
  console.log(`  health: ssh ... root@${node01.address} lsyncd-cluster-health`);
  console.log("Ctrl-C stops everything and cleans up.");
  // A pending promise does not keep Node running: without a timer the process ended here,
  // and the fixture's owner watchdog took the hosts down with it.
  setInterval(() => undefined, 1 << 30);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
