/** The network keys: Kubernetes API address, NodeLocal DNSCache, the API-client route. */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../infra/config";
import { VALID_V0, mapSource } from "./support/config";

function parse(overrides: Record<string, string>) {
  return parseConfig(mapSource({ ...VALID_V0, ...overrides }));
}
function problemsOf(overrides: Record<string, string>): string[] {
  try {
    parse(overrides);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("network configuration", () => {
  it("defaults: any API address on 443/6443, no Cilium policy, no NodeLocal DNS, no API route", () => {
    expect(parse({}).network).toEqual({
      kubernetesApi: { cidrs: ["0.0.0.0/0"], ports: [443, 6443], ciliumEntity: false },
      nodeLocalDnsAddresses: [],
      apiClientAccess: false,
    });
  });

  it("reads every key", () => {
    const c = parse({
      kubernetesApiCidrs: JSON.stringify(["172.18.0.2/32", "172.18.0.3/32"]),
      kubernetesApiPorts: JSON.stringify(["6443"]),
      kubernetesApiCiliumEntity: "true",
      nodeLocalDnsCache: "true",
      apiClientAccess: "true",
    });
    expect(c.network).toEqual({
      kubernetesApi: {
        cidrs: ["172.18.0.2/32", "172.18.0.3/32"],
        ports: [6443],
        ciliumEntity: true,
      },
      // The documented default: NodeLocal DNSCache's link-local address.
      nodeLocalDnsAddresses: ["169.254.20.10"],
      apiClientAccess: true,
    });
    expect(
      parse({
        nodeLocalDnsCache: "true",
        nodeLocalDnsAddresses: JSON.stringify(["169.254.20.10", "10.96.0.10"]),
      }).network.nodeLocalDnsAddresses,
    ).toEqual(["169.254.20.10", "10.96.0.10"]);
  });

  it.each([
    [
      { kubernetesApiCidrs: JSON.stringify(["172.18.0.2"]) },
      /kubernetesApiCidrs.*item '172.18.0.2' is not a CIDR/,
    ],
    [{ kubernetesApiCidrs: "[]" }, /kubernetesApiCidrs.*is empty/],
    [
      { kubernetesApiPorts: JSON.stringify(["0"]) },
      /kubernetesApiPorts.*item '0' is not a port number/,
    ],
    [{ kubernetesApiPorts: JSON.stringify(["65536"]) }, /kubernetesApiPorts.*not a port number/],
    [
      { kubernetesApiCiliumEntity: "yes" },
      /kubernetesApiCiliumEntity.*'yes' is not one of false, true/,
    ],
    [{ nodeLocalDnsCache: "on" }, /nodeLocalDnsCache.*not one of/],
    [
      { nodeLocalDnsAddresses: JSON.stringify(["169.254.20.10/32"]) },
      /nodeLocalDnsAddresses.*is not an IP address/,
    ],
    [{ nodeLocalDnsAddresses: "[]" }, /nodeLocalDnsAddresses.*is empty/],
    [{ apiClientAccess: "1" }, /apiClientAccess.*not one of false, true/],
  ])("refuses %j, naming the key", (overrides, message) => {
    expect(problemsOf(overrides).join("\n")).toMatch(message);
  });
});
