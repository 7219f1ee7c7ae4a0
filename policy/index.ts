// The policy pack's entry point: `pulumi preview --policy-pack policy`. Building the pack starts its gRPC server and
// keeps the process alive, so nothing imports this file; the rules live in ./rules, where tests reach them.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("cluster-bootstrap", {
    description: "What the cluster-bootstrap stacks promise: backups kept, in-cluster objects retained, secrets secret, " +
        "a read-only deploy key, a tunnel closed by default and scoped credentials.",
    enforcementLevel: "mandatory",
    policies,
});
