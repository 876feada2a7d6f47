/**
 * A small builder of ONNX graphs over the schema of the `onnx-proto` package (protobufjs static code): named
 * initializers, nodes with typed attributes, graph inputs/outputs with symbolic dimensions, serialised to the bytes of
 * a `.onnx` file.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX TensorProto data types used here. */
const FLOAT = 1;
const INT64 = 7;

/** IR version 8 (ONNX 1.10+): the first to carry opset 16/17 models. */
export const ONNX_IR_VERSION = 8;

/** A typed node attribute: one int, one float, one string, or a list of ints. */
export type OnnxAttr = { i: number } | { f: number } | { s: string } | { ints: number[] };

/** A tensor dimension: a fixed size or a symbolic name (dynamic). */
export type OnnxDim = number | string;

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name with this prefix. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.names.has(name)) name = `${prefix}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX value '${name}' defined twice`);
    this.names.add(name);
    return name;
  }

  /** Adds a float32 initializer of shape `dims` (row-major data) and returns its name. */
  floats(name: string, data: Float32Array, dims: number[]): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1))
      throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push(onnx.TensorProto.create({ name: this.claim(name), dataType: FLOAT, dims, rawData: bytes }));
    return name;
  }

  /** Adds an int64 initializer (shapes, axes) and returns its name. */
  int64s(name: string, values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const bytes = new Uint8Array(data.buffer);
    this.initializers.push(
      onnx.TensorProto.create({ name: this.claim(name), dataType: INT64, dims: [values.length], rawData: bytes }),
    );
    return name;
  }

  /**
   * Adds a node; returns the names of its outputs (fresh names derived from `prefix`).
   * Optional inputs left out are passed as ''.
   */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, OnnxAttr> = {},
    opts: { prefix?: string; outputs?: number } = {},
  ): string[] {
    const prefix = opts.prefix ?? opType.toLowerCase();
    const outputs = Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(prefix));
    const attribute = Object.entries(attrs).map(([name, a]) => {
      if ('i' in a) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: a.i });
      if ('f' in a) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: a.f });
      if ('s' in a)
        return onnx.AttributeProto.create({
          name,
          type: onnx.AttributeProto.AttributeType.STRING,
          s: new TextEncoder().encode(a.s),
        });
      return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: a.ints });
    });
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: outputs[0], attribute }));
    return outputs;
  }

  /** One-output node (the common case). */
  op(opType: string, inputs: string[], attrs: Record<string, OnnxAttr> = {}, prefix?: string): string {
    return this.node(opType, inputs, attrs, { prefix })[0];
  }

  /** Marks a value name as taken (graph inputs). */
  input(name: string): string {
    return this.claim(name);
  }

  /** Renames the output of the last node that produced `value` (to give graph outputs stable names). */
  rename(value: string, name: string): string {
    const node = this.nodes.find((n) => n.output.includes(value));
    if (!node) throw new Error(`no node produces ${value}`);
    node.output = node.output.map((o) => (o === value ? this.claim(name) : o));
    return name;
  }

  /** Serialises the graph as a ModelProto (`.onnx` bytes). */
  encode(o: {
    name: string;
    inputs: { name: string; dims: OnnxDim[] }[];
    outputs: { name: string; dims: OnnxDim[] }[];
    opset: number;
    producerVersion: string;
    docString?: string;
    metadata?: Record<string, string>;
  }): Uint8Array {
    const valueInfo = (v: { name: string; dims: OnnxDim[] }) =>
      onnx.ValueInfoProto.create({
        name: v.name,
        type: onnx.TypeProto.create({
          tensorType: onnx.TypeProto.Tensor.create({
            elemType: FLOAT,
            shape: onnx.TensorShapeProto.create({
              dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
            }),
          }),
        }),
      });
    const graph = onnx.GraphProto.create({
      name: o.name,
      node: this.nodes,
      initializer: this.initializers,
      input: o.inputs.map(valueInfo),
      output: o.outputs.map(valueInfo),
    });
    const model = onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: o.opset })],
      producerName: 'ocrops',
      producerVersion: o.producerVersion,
      docString: o.docString ?? '',
      graph,
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) =>
        onnx.StringStringEntryProto.create({ key, value }),
      ),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
