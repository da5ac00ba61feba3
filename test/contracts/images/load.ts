/** The image facts, typed. */
import facts from "./facts.json";
import type { ImagesFacts } from "./facts-types";

export const IMAGE_FACTS_FILE = "test/contracts/images/facts.json";

export function imagesFacts(): ImagesFacts {
  return facts as unknown as ImagesFacts;
}
