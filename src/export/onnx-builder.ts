/**
 * A small ONNX graph builder: nodes, initializers and typed inputs and outputs, encoded to bytes
 * by protobufjs through the schema in onnx-schema.ts.
 */
import { modelProtoType, OnnxType } from './onnx-schema.js';

type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

interface Attr {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

function attribute(name: string, v: AttrValue): Attr {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: 2, i: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('float' in v) return { name, type: 1, f: v.float };
  return { name, type: 6, floats: v.floats };
}

export type ElemType = (typeof OnnxType)[keyof typeof OnnxType];

export class OnnxGraph {
  private readonly nodes: object[] = [];
  private readonly inits: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private counter = 0;
  private readonly names = new Set<string>();

  /** A fresh value name with a readable prefix. */
  name(prefix: string): string {
    let n = prefix;
    while (this.names.has(n)) n = `${prefix}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** Adds a node; returns its (single) output name. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    const out = outName ?? this.name(`${op.toLowerCase()}`);
    this.nodes.push({ op_type: op, input: inputs, output: [out], name: this.name(`n_${out}`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** Adds a constant tensor. */
  init(name: string, type: ElemType, dims: number[], data: Float32Array | Int8Array | Int32Array | Uint8Array | BigInt64Array): string {
    const n = this.name(name);
    this.inits.push({ name: n, data_type: type, dims, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return n;
  }

  input(name: string, type: ElemType, dims: (number | string)[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** The model as ONNX bytes. */
  encode(o: { graphName: string; opset: number; producerVersion: string; doc: string; metadata: Record<string, string> }): Uint8Array {
    const Model = modelProtoType();
    const msg = {
      ir_version: 8,
      opset_import: [{ domain: '', version: o.opset }],
      producer_name: 'mobilegrad',
      producer_version: o.producerVersion,
      doc_string: o.doc,
      graph: { name: o.graphName, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
      metadata_props: Object.entries(o.metadata).map(([key, value]) => ({ key, value })),
    };
    const err = Model.verify(msg);
    if (err) throw new Error(`ONNX model: ${err}`);
    return Model.encode(Model.fromObject(msg)).finish();
  }
}

function valueInfo(name: string, type: ElemType, dims: (number | string)[]) {
  return { name, type: { tensor_type: { elem_type: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}
