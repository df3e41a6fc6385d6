// Command kstatus prints what Flux's status library, kstatus (sigs.k8s.io/cli-utils pkg/kstatus/status), computes
// for one Kubernetes object: the status Flux's `wait: true` health checks (and `flux`/`helm --wait` polling) act on.
// The operator's KstatusIT runs it on real runs read from the API server.
//
// Usage: kstatus FILE   (FILE holds the object as JSON, e.g. `kubectl get mpt/x -o json`; "-" reads stdin)
// Output: one JSON line {"status": "InProgress|Failed|Current|Terminating|NotFound|Unknown", "message": "..."}
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) != 2 {
		fail(2, "usage: kstatus FILE (the object as JSON; - reads stdin)")
	}
	var in io.Reader = os.Stdin
	name := "stdin"
	if os.Args[1] != "-" {
		name = os.Args[1]
		f, err := os.Open(os.Args[1])
		if err != nil {
			fail(1, "cannot open %s: %v", os.Args[1], err)
		}
		defer f.Close()
		in = f
	}
	raw, err := io.ReadAll(in)
	if err != nil {
		fail(1, "cannot read %s: %v", name, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		fail(1, "%s is not a Kubernetes object in JSON: %v", name, err)
	}
	res, err := status.Compute(obj)
	if err != nil {
		fail(1, "kstatus could not compute the status of %s/%s: %v", obj.GetKind(), obj.GetName(), err)
	}
	out, _ := json.Marshal(result{Status: res.Status.String(), Message: res.Message})
	fmt.Println(string(out))
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kstatus: "+format+"\n", args...)
	os.Exit(code)
}
