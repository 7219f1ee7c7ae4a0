// The stack as a dependency graph: validated config first, then each capability gets exactly what it needs.
// Pulumi calls the exported function and takes what it returns as the stack outputs.
import { loadConfig } from "./config";

async function clusterBootstrap() {
    // Throws with every problem, each naming its key, before anything is registered.
    const cfg = await loadConfig();

    return {
        cluster: cfg.cluster.name,
    };
}

export = clusterBootstrap;
