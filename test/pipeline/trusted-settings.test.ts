import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type RepoSettings } from "../../src/config/index.js";
import { forkPreviewMark, readTrustedSettings, type TrustPorts } from "../../src/pipeline/index.js";

const at = (permission: RepoSettings["approvals"]["permission"]): RepoSettings => ({ ...DEFAULT_SETTINGS, approvals: { permission } });

function ports(p: { production?: string; defaultHead?: string; commits: Record<string, RepoSettings | undefined> }): TrustPorts & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    productionSha: async () => p.production,
    defaultBranchSha: async () => {
      asked.push("default-branch");
      return p.defaultHead;
    },
    settingsAt: async (sha) => {
      asked.push(sha);
      return p.commits[sha];
    },
  };
}

describe("the settings a change is judged by", () => {
  it("are those production runs, without asking for the default branch", async () => {
    const p = ports({ production: "prod1", defaultHead: "main2", commits: { prod1: at("admin"), main2: at("read") } });
    expect(await readTrustedSettings(p)).toEqual({ settings: at("admin"), sha: "prod1", from: "production" });
    expect(p.asked).toEqual(["prod1"]);
  });

  it("are the default branch head's while nothing is deployed", async () => {
    expect(await readTrustedSettings(ports({ defaultHead: "main2", commits: { main2: at("maintain") } }))).toEqual({ settings: at("maintain"), sha: "main2", from: "default-branch" });
  });

  it("are the defaults when no trusted commit has settings that read", async () => {
    expect(await readTrustedSettings(ports({ production: "prod1", defaultHead: "main2", commits: {} }))).toEqual({ settings: DEFAULT_SETTINGS, sha: undefined, from: "defaults" });
    expect(await readTrustedSettings(ports({ commits: {} }))).toMatchObject({ from: "defaults" });
  });

  it("mark a fork preview's approval with the one head it holds for", () => {
    expect(forkPreviewMark("abc123")).toBe("deploy-preview@abc123");
    expect(forkPreviewMark("abc123")).not.toBe(forkPreviewMark("abc124"));
  });
});
