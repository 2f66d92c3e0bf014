/**
 * Documents and helpers of the `edgenet import gni` tests: a two-cluster
 * Eucalyptus 4.4 document, a validated reader, and a private database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { testDatabaseUrl, testStoreKind } from '../../helpers/postgres.ts';

export function readDoc(text: string): GniDocument {
  const parsed = parseGni(text);
  assert.ok(parsed.ok, JSON.stringify(parsed.diagnostics));
  return parsed.value;
}

/**
 * A fresh database — a file in a private temp dir, or under
 * EDGENET_TEST_DB=postgres a fresh PostgreSQL database — and that dir for the
 * test's other files, removed afterwards even when the test fails.
 */
export async function withDatabase<T>(fn: (location: string, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'edgenet-import-'));
  try {
    return await fn(testStoreKind() === 'postgres' ? await testDatabaseUrl() : join(dir, 'clc.db'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Two clusters in the 4.4 shape (eucalyptus-edge.md §2.2/§2.3a), shaped like the
 * install guide's two-partition example (PARTI00, PARTI01) but with disjoint
 * subnets; instances on three nodes, elastic IPs, a "publicIp = privateIp"
 * instance (4.x writes that for "no public IP", render/context.ts publicIpOf),
 * rules naming groups of the other cluster and of another account, and a group
 * present only as a rule's peer (4.4 broadcasts those too, §2.3), and the
 * 4.1.1+ publicGateway (eucalyptus-edge.md §3.1 and §6.2: a valid key from 4.1.1).
 */
export const MULTI_CLUSTER = `<network-data version="5e6f7a8b">
  <configuration>
    <property name="mode"><value>EDGE</value></property>
    <property name="publicIps"><value>203.0.113.10-203.0.113.30</value><value>198.51.100.7</value></property>
    <property name="publicGateway"><value>203.0.113.1</value></property>
    <property name="enabledCLCIp"><value>10.0.0.5</value></property>
    <property name="instanceDNSDomain"><value>eucalyptus.internal</value></property>
    <property name="instanceDNSServers"><value>10.0.0.2</value><value>10.0.0.3</value></property>
    <property name="subnets">
      <subnet name="192.168.50.0">
        <property name="subnet"><value>192.168.50.0</value></property>
        <property name="netmask"><value>255.255.255.0</value></property>
        <property name="gateway"><value>192.168.50.1</value></property>
      </subnet>
    </property>
    <property name="clusters">
      <cluster name="PARTI00">
        <subnet name="10.111.0.0">
          <property name="subnet"><value>10.111.0.0</value></property>
          <property name="netmask"><value>255.255.0.0</value></property>
          <property name="gateway"><value>10.111.0.1</value></property>
        </subnet>
        <property name="enabledCCIp"><value>10.0.0.6</value></property>
        <property name="macPrefix"><value>d0:0d</value></property>
        <property name="privateIps"><value>10.111.5.1-10.111.5.254</value></property>
        <property name="nodes">
          <node name="10.0.0.21"><instanceIds><value>i-0000a001</value><value>i-0000a002</value></instanceIds></node>
          <node name="10.0.0.22"><instanceIds><value>i-0000a003</value></instanceIds></node>
        </property>
      </cluster>
      <cluster name="PARTI01">
        <subnet name="10.112.0.0">
          <property name="subnet"><value>10.112.0.0</value></property>
          <property name="netmask"><value>255.255.0.0</value></property>
          <property name="gateway"><value>10.112.0.1</value></property>
        </subnet>
        <property name="enabledCCIp"><value>10.0.1.6</value></property>
        <property name="macPrefix"><value>d0:0e</value></property>
        <property name="privateIps"><value>10.112.6.1-10.112.6.254</value></property>
        <property name="nodes">
          <node name="10.0.1.21"><instanceIds><value>i-0000b001</value><value>i-0000b002</value></instanceIds></node>
        </property>
      </cluster>
    </property>
  </configuration>
  <vpcs/>
  <instances>
    <instance name="i-0000a001"><ownerId>000000000001</ownerId><macAddress>d0:0d:00:00:a0:01</macAddress><publicIp>203.0.113.11</publicIp><privateIp>10.111.5.10</privateIp><networkInterfaces/><securityGroups><value>sg-000000a1</value></securityGroups></instance>
    <instance name="i-0000a002"><ownerId>000000000001</ownerId><macAddress>d0:0d:00:00:a0:02</macAddress><publicIp>10.111.5.11</publicIp><privateIp>10.111.5.11</privateIp><networkInterfaces/><securityGroups><value>sg-000000a1</value><value>sg-000000a2</value></securityGroups></instance>
    <instance name="i-0000a003"><ownerId>000000000001</ownerId><macAddress>d0:0d:00:00:a0:03</macAddress><publicIp>198.51.100.7</publicIp><privateIp>10.111.5.12</privateIp><networkInterfaces/><securityGroups><value>sg-000000a2</value></securityGroups></instance>
    <instance name="i-0000b001"><ownerId>000000000002</ownerId><macAddress>d0:0e:00:00:b0:01</macAddress><publicIp>203.0.113.20</publicIp><privateIp>10.112.6.10</privateIp><networkInterfaces/><securityGroups><value>sg-000000b1</value></securityGroups></instance>
    <instance name="i-0000b002"><ownerId>000000000002</ownerId><macAddress>d0:0e:00:00:b0:02</macAddress><privateIp>10.112.6.11</privateIp><networkInterfaces/><securityGroups><value>sg-000000b1</value></securityGroups></instance>
  </instances>
  <dhcpOptionSets/>
  <internetGateways/>
  <securityGroups>
    <securityGroup name="sg-000000a1"><ownerId>000000000001</ownerId><ingressRules>
      <rule><protocol>6</protocol><fromPort>22</fromPort><toPort>22</toPort><cidr>0.0.0.0/0</cidr></rule>
      <rule><protocol>6</protocol><fromPort>80</fromPort><toPort>443</toPort><cidr>198.51.100.0/24</cidr></rule>
      <rule><protocol>6</protocol><fromPort>5432</fromPort><toPort>5432</toPort><groupId>sg-000000b1</groupId><groupOwnerId>000000000002</groupOwnerId></rule>
    </ingressRules><egressRules/></securityGroup>
    <securityGroup name="sg-000000a2"><ownerId>000000000001</ownerId><ingressRules>
      <rule><protocol>1</protocol><icmpType>-1</icmpType><icmpCode>-1</icmpCode><groupId>sg-000000a1</groupId><groupOwnerId>000000000001</groupOwnerId></rule>
      <rule><protocol>17</protocol><fromPort>53</fromPort><toPort>53</toPort><groupId>sg-000000c1</groupId><groupOwnerId>000000000003</groupOwnerId></rule>
    </ingressRules><egressRules/></securityGroup>
    <securityGroup name="sg-000000b1"><ownerId>000000000002</ownerId><ingressRules>
      <rule><protocol>6</protocol><fromPort>8080</fromPort><toPort>8080</toPort><groupId>sg-000000a2</groupId><groupOwnerId>000000000001</groupOwnerId></rule>
      <rule><protocol>1</protocol><icmpType>8</icmpType><icmpCode>0</icmpCode><cidr>10.0.0.0/8</cidr></rule>
    </ingressRules><egressRules/></securityGroup>
    <securityGroup name="sg-000000c1"><ownerId>000000000003</ownerId><ingressRules/><egressRules/></securityGroup>
  </securityGroups>
</network-data>
`;

