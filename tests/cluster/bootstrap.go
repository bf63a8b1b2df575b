package main

// The objects kubeadm creates so that nodes can join with a bootstrap token:
// the token Secret, the RBAC that lets bootstrappers request client
// certificates and has them approved automatically, and the cluster-info
// ConfigMap the bootstrap signer signs. Created on every start; objects that
// already exist are left alone (the token Secret is brought back in line).

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func ensureBootstrapObjects(ctx context.Context, cs kubernetes.Interface, token, server string, caPEM []byte) error {
	if err := ensureTokenSecret(ctx, cs, token); err != nil {
		return fmt.Errorf("bootstrap token secret: %w", err)
	}
	if err := ensureBootstrapRBAC(ctx, cs); err != nil {
		return fmt.Errorf("bootstrap RBAC: %w", err)
	}
	if err := ensureClusterInfo(ctx, cs, server, caPEM); err != nil {
		return fmt.Errorf("cluster-info: %w", err)
	}
	return nil
}

func ensureTokenSecret(ctx context.Context, cs kubernetes.Interface, token string) error {
	id, secret, ok := strings.Cut(token, ".")
	if !ok {
		return fmt.Errorf("malformed bootstrap token in file")
	}
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: metav1.NamespaceSystem},
		Type:       corev1.SecretTypeBootstrapToken,
		StringData: map[string]string{
			"description":                    "rk-cluster default bootstrap token",
			"token-id":                       id,
			"token-secret":                   secret,
			"usage-bootstrap-authentication": "true",
			"usage-bootstrap-signing":        "true",
			"auth-extra-groups":              bootstrapGroup,
		},
	}
	secrets := cs.CoreV1().Secrets(metav1.NamespaceSystem)
	_, err := secrets.Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = secrets.Update(ctx, want, metav1.UpdateOptions{})
	}
	return err
}

func clusterRoleBinding(name, role string, subject rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{subject},
	}
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

// ensureBootstrapRBAC: the bindings kubeadm makes (same names).
func ensureBootstrapRBAC(ctx context.Context, cs kubernetes.Interface) error {
	rbac := cs.RbacV1()
	getNodes := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:get-nodes"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}},
	}
	if _, err := rbac.ClusterRoles().Create(ctx, getNodes, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	bindings := []*rbacv1.ClusterRoleBinding{
		// Bootstrappers may create CSRs.
		clusterRoleBinding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", group(bootstrapGroup)),
		// Their first client certificate is approved automatically...
		clusterRoleBinding("kubeadm:node-autoapprove-bootstrap",
			"system:certificates.k8s.io:certificatesigningrequests:nodeclient", group(bootstrapGroup)),
		// ...and so are renewals a node asks for itself.
		clusterRoleBinding("kubeadm:node-autoapprove-certificate-rotation",
			"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group("system:nodes")),
		clusterRoleBinding("kubeadm:get-nodes", "kubeadm:get-nodes", group(bootstrapGroup)),
	}
	for _, b := range bindings {
		if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); ignoreExists(err) != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
	}
	return nil
}

// ensureClusterInfo publishes kube-public/cluster-info (server and CA), which
// anonymous clients may read and the bootstrap signer signs with the token.
func ensureClusterInfo(ctx context.Context, cs kubernetes.Interface, server string, caPEM []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[""] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-info", Namespace: metav1.NamespacePublic},
		Data:       map[string]string{"kubeconfig": string(data)},
	}
	if _, err := cs.CoreV1().ConfigMaps(metav1.NamespacePublic).Create(ctx, cm, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:bootstrap-signer-clusterinfo", Namespace: metav1.NamespacePublic},
		Rules: []rbacv1.PolicyRule{{
			Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"},
			ResourceNames: []string{"cluster-info"},
		}},
	}
	if _, err := cs.RbacV1().Roles(metav1.NamespacePublic).Create(ctx, role, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: metav1.NamespacePublic},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "system:anonymous"}},
	}
	_, err = cs.RbacV1().RoleBindings(metav1.NamespacePublic).Create(ctx, binding, metav1.CreateOptions{})
	return ignoreExists(err)
}
