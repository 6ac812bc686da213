/** A body that never ends (spaces, 1 KB a pull), and how much of it was pulled. */
export function endlessBody(): { endless: ReadableStream<Uint8Array>; sent: () => number } {
  let sent = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += 1024;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
  });
  return { endless, sent: () => sent };
}
