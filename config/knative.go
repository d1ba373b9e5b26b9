package config

import (
	"strconv"

	"github.com/fndeck/fndeck/cloud"
)

// readKnative reads a Cloud Run service.yaml (the Knative Service that
// `gcloud run services describe --format export` writes and `gcloud run
// services replace` takes): one function named after the service with one
// target, cloudrun. The image it names is where it runs now; fndeck
// deploys new images to it.
func readKnative(c *collector, file string, root *value, opts ProjectOptions) []frameworkFunction {
	meta := child(root, "metadata")
	nameV := child(meta, "name")
	if nameV == nil {
		c.add(root.pos, "metadata.name: a Cloud Run service needs a name")
		return nil
	}
	name, ok := c.str(nameV, "metadata.name")
	if !ok {
		return nil
	}
	if !reService().MatchString(name) {
		c.add(nameV.pos, "metadata.name: %q is not a Cloud Run service name (lowercase letters, digits and '-', starting with a letter, at most 63)", name)
		return nil
	}
	t := &Target{Name: "cloudrun", Function: name, CloudRun: &CloudRunTarget{Service: name},
		Note: "described by " + file + " (gcloud run services replace): fndeck deploys new images to the service"}

	// The project: metadata.namespace is the project ID, or in an exported
	// file its number, which only the configuration can map to an ID.
	ns := child(meta, "namespace")
	switch {
	case ns == nil && len(opts.GCPProjects) == 1 && opts.GCPProjects[0] != "all":
		t.CloudRun.Project = opts.GCPProjects[0]
	case ns == nil:
		t.Unresolved = append(t.Unresolved, unresolved(meta.pos, "metadata.namespace: no project; set it to the project ID, or name exactly one project in gcp.projects (FNDECK_GCP_PROJECTS)"))
	default:
		p, ok := c.str(ns, "metadata.namespace")
		if !ok {
			return nil
		}
		_, numErr := strconv.ParseUint(p, 10, 64)
		switch {
		case numErr == nil && len(opts.GCPProjects) == 1 && opts.GCPProjects[0] != "all":
			t.CloudRun.Project = opts.GCPProjects[0]
		case numErr == nil:
			t.Unresolved = append(t.Unresolved, unresolved(ns.pos, "metadata.namespace: %s is a project number; fndeck needs the project ID: write it here, or name exactly that one project in gcp.projects (FNDECK_GCP_PROJECTS)", p))
		case !reProject().MatchString(p):
			c.add(ns.pos, "metadata.namespace: %q is not a GCP project ID or number", p)
			return nil
		default:
			t.CloudRun.Project = p
		}
	}

	loc := child(child(meta, "labels"), "cloud.googleapis.com/location")
	switch {
	case loc != nil:
		r, ok := c.str(loc, "metadata.labels.cloud.googleapis.com/location")
		if !ok {
			return nil
		}
		if !reGCPRegion().MatchString(r) {
			c.add(loc.pos, "metadata.labels.cloud.googleapis.com/location: %q is not a GCP region (like europe-west1)", r)
			return nil
		}
		t.CloudRun.Region = r
	case len(opts.GCPRegions) == 1 && opts.GCPRegions[0] != "all":
		t.CloudRun.Region = opts.GCPRegions[0]
	default:
		t.Unresolved = append(t.Unresolved, unresolved(nameV.pos, "no region: add the label cloud.googleapis.com/location to metadata.labels, or name exactly one region in gcp.regions (FNDECK_GCP_REGIONS)"))
	}

	spec := child(child(child(root, "spec"), "template"), "spec")
	if spec == nil {
		c.add(root.pos, "spec.template.spec: a Cloud Run service needs its revision template")
		return nil
	}
	good := true
	if ts := child(spec, "timeoutSeconds"); ts != nil {
		n, err := strconv.Atoi(ts.text)
		if err != nil || n < 1 || n > 3600 {
			c.add(ts.pos, "spec.template.spec.timeoutSeconds: %q is not a number from 1 to 3600", ts.text)
			good = false
		}
		t.CloudRun.TimeoutS = n
	}
	containers := child(spec, "containers")
	if containers == nil || containers.kind != kindList || len(containers.items) == 0 {
		c.add(spec.pos, "spec.template.spec.containers: a Cloud Run service needs a container")
		return nil
	}
	// With sidecars, the ingress container is the one with a port.
	ctr := containers.items[0]
	for _, it := range containers.items {
		if child(it, "ports") != nil {
			ctr = it
			break
		}
	}
	what := "spec.template.spec.containers"
	if ports := child(ctr, "ports"); ports != nil && ports.kind == kindList && len(ports.items) > 0 {
		if cp := child(ports.items[0], "containerPort"); cp != nil {
			n, err := strconv.Atoi(cp.text)
			if err != nil || n < 1 || n > 65535 {
				c.add(cp.pos, "%s.ports.containerPort: %q is not a port", what, cp.text)
				good = false
			}
			t.CloudRun.Port = n
		}
	}
	if mem := child(child(child(ctr, "resources"), "limits"), "memory"); mem != nil {
		d := projectDecoder{}
		t.CloudRun.Memory, t.CloudRun.MemoryMB, ok = d.runMemory(&field{key: "memory", val: mem}, what+".resources.limits.memory")
		c.problems = append(c.problems, d.c.problems...)
		good = good && ok
	}
	if env := child(ctr, "env"); env != nil && env.kind == kindList {
		t.CloudRun.Env = map[string]string{}
		for _, e := range env.items {
			n, v := child(e, "name"), child(e, "value")
			if n == nil || v == nil {
				continue // valueFrom (a secret) stays as the service has it
			}
			t.CloudRun.Env[n.text] = v.text
		}
	}
	ic := &cloud.ImageConfig{}
	for _, k := range []string{"command", "args"} {
		if l := child(ctr, k); l != nil && l.kind == kindList {
			var out []string
			for _, it := range l.items {
				out = append(out, it.text)
			}
			if k == "command" {
				ic.Entrypoint = out
			} else {
				ic.Command = out
			}
		}
	}
	if wd := child(ctr, "workingDir"); wd != nil {
		ic.Workdir = wd.text
	}
	if !ic.IsZero() {
		t.ImageConfig = ic
	}
	if !good {
		return nil
	}
	fn := &Function{Name: name, Source: file, Targets: []*Target{t}}
	if img := child(ctr, "image"); img == nil {
		c.add(ctr.pos, "%s: the container has no image", what)
		return nil
	}
	return []frameworkFunction{{fn: fn, at: nameV.pos}}
}
