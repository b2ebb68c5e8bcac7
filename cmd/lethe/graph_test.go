package main

import (
	"strings"
	"testing"
)

func TestGraphCommand(t *testing.T) {
	dir := configDir(t, planTestHCL)
	wantDOT := `digraph lethe {
  rankdir=LR;
  compound=true;
  node [shape=box];

  subgraph "cluster_app" {
    label="app";
    "app.customer" [label="customer"];
    "app.orders" [label="orders"];
  }

  subgraph "cluster_sms" {
    label="sms";
    "sms.log" [label="log"];
  }

  "identity:email" [label="email", shape=ellipse];
  "identity:phone_number" [label="phone_number", shape=ellipse];
  "identity:email" -> "app.customer" [label="email"];
  "identity:phone_number" -> "sms.log" [label="phone"];

  "app.customer" -> "app.orders" [label="id -> customer_id"];
}
`
	wantMermaid := `flowchart LR
  subgraph d0["app"]
    n0["customer"]
    n1["orders"]
  end
  subgraph d1["sms"]
    n2["log"]
  end
  i0(["identity: email"])
  i1(["identity: phone_number"])
  i0 -->|"email"| n0
  i1 -->|"phone"| n2
  n0 -->|"id -#gt; customer_id"| n1
`
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "dot by default", args: []string{"graph", dir}, stdout: wantDOT},
		{name: "dot", args: []string{"graph", "--format", "dot", dir}, stdout: wantDOT},
		{name: "mermaid after the directory", args: []string{"graph", dir, "--format", "mermaid"}, stdout: wantMermaid},
		{name: "unknown format", args: []string{"graph", dir, "--format", "svg"}, code: 2, stderr: `unknown --format "svg"; use dot or mermaid`},
		{name: "no directory", args: []string{"graph"}, code: 2, stderr: "give exactly one configuration directory"},
		{name: "help", args: []string{"graph", "--help"}, stderr: "Usage: lethe graph DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}
