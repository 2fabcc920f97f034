//! The MLP on the GPU: forward, loss, backward and Adam as WGSL kernels, all
//! recorded into one submission per training step. The parameters, Adam's
//! moments and every activation stay on the device; nothing is read back
//! unless asked ([`MlpGpu::params`], [`MlpGpu::predict`]).
//! CPU twin: [`crate::kernels::mlp`].

use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::mlp::{Activation, AdamConfig, Loss, MlpSpec, Targets, adam_bias_corrections};

const MATMUL_WGSL: &str = include_str!("shaders/mlp_matmul.wgsl");
const LOSS_WGSL: &str = include_str!("shaders/mlp_loss.wgsl");
const BIAS_WGSL: &str = include_str!("shaders/mlp_bias.wgsl");
const ADAM_WGSL: &str = include_str!("shaders/mlp_adam.wgsl");
const TILE: u32 = 16;

/// Rows per inference chunk: bounds every activation buffer to
/// 16,384 × 256 × 4 B = 16 MiB whatever the number of points.
pub const INFER_CHUNK: u32 = 16_384;

/// The compiled kernels, built once per device.
pub struct MlpPipelines {
    matmul: wgpu::ComputePipeline,
    cross_entropy: wgpu::ComputePipeline,
    mean_squared_error: wgpu::ComputePipeline,
    bias: wgpu::ComputePipeline,
    adam: wgpu::ComputePipeline,
}

impl super::Kernel for MlpPipelines {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        Ok(Self {
            matmul: gpu
                .compute_pipeline("mlp_matmul", MATMUL_WGSL, "matmul")
                .await?,
            cross_entropy: gpu
                .compute_pipeline("mlp_cross_entropy", LOSS_WGSL, "cross_entropy")
                .await?,
            mean_squared_error: gpu
                .compute_pipeline("mlp_mse", LOSS_WGSL, "mean_squared_error")
                .await?,
            bias: gpu
                .compute_pipeline("mlp_bias", BIAS_WGSL, "bias_grad")
                .await?,
            adam: gpu.compute_pipeline("mlp_adam", ADAM_WGSL, "adam").await?,
        })
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    mode: u32,
    a_off: u32,
    a_sm: u32,
    a_sk: u32,
    act: u32,
    b_off: u32,
    b_sk: u32,
    b_sn: u32,
    aux_off: u32,
    c_off: u32,
    c_sm: u32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct LossParams {
    batch: u32,
    k: u32,
    smoothing: f32,
    maxsup: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct BiasParams {
    batch: u32,
    n: u32,
    off: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct AdamParams {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    c1: f32,
    c2: f32,
}

/// What a dispatch computes; its uniform is rewritten from this for each batch size.
#[derive(Clone, Copy)]
enum Kernel {
    /// Batch size goes into `m` (modes 0, 1) or `k` (mode 2).
    Matmul(MatmulParams),
    Loss {
        classify: bool,
        k: u32,
    },
    Bias(BiasParams),
    Adam {
        n: u32,
    },
}

struct Dispatch {
    kernel: Kernel,
    bind_group: wgpu::BindGroup,
    uniform: wgpu::Buffer,
}

/// Per-step settings that reach the uniforms.
#[derive(Clone, Copy)]
struct StepSettings {
    batch: u32,
    loss: Loss,
    adam: AdamConfig,
    step: u32,
}

impl Dispatch {
    fn uniform_bytes(&self, s: &StepSettings) -> Vec<u8> {
        match self.kernel {
            Kernel::Matmul(mut p) => {
                if p.mode == 2 {
                    p.k = s.batch;
                } else {
                    p.m = s.batch;
                }
                bytemuck::bytes_of(&p).to_vec()
            }
            Kernel::Loss { k, .. } => {
                let (smoothing, maxsup) = match s.loss {
                    Loss::CrossEntropy { smoothing, maxsup } => (smoothing, maxsup),
                    Loss::MeanSquaredError => (0.0, 0.0),
                };
                bytemuck::bytes_of(&LossParams {
                    batch: s.batch,
                    k,
                    smoothing,
                    maxsup,
                })
                .to_vec()
            }
            Kernel::Bias(mut p) => {
                p.batch = s.batch;
                bytemuck::bytes_of(&p).to_vec()
            }
            Kernel::Adam { n } => {
                let (c1, c2) = adam_bias_corrections(&s.adam, s.step.max(1));
                bytemuck::bytes_of(&AdamParams {
                    n,
                    lr: s.adam.lr,
                    beta1: s.adam.beta1,
                    beta2: s.adam.beta2,
                    eps: s.adam.eps,
                    weight_decay: s.adam.weight_decay,
                    c1,
                    c2,
                })
                .to_vec()
            }
        }
    }

    fn record(&self, pipes: &MlpPipelines, pass: &mut wgpu::ComputePass<'_>, batch: u32) {
        let (pipeline, (x, y)) = match self.kernel {
            Kernel::Matmul(p) => {
                let (rows, cols) = if p.mode == 2 {
                    (p.m, p.n)
                } else {
                    (batch, p.n)
                };
                (
                    &pipes.matmul,
                    (cols.div_ceil(TILE).max(1), rows.div_ceil(TILE).max(1)),
                )
            }
            Kernel::Loss { classify, .. } => (
                if classify {
                    &pipes.cross_entropy
                } else {
                    &pipes.mean_squared_error
                },
                (batch.div_ceil(64).max(1), 1),
            ),
            Kernel::Bias(p) => (&pipes.bias, (p.n.div_ceil(64).max(1), 1)),
            Kernel::Adam { n } => (&pipes.adam, dispatch_2d(n, 64)),
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(x, y, 1);
    }
}

impl Dispatch {
    /// A dispatch of `pipeline` with its own uniform at binding 0, then `entries`.
    fn new(
        gpu: &Gpu,
        pipeline: &wgpu::ComputePipeline,
        kernel: Kernel,
        entries: &[(u32, &wgpu::Buffer)],
    ) -> Self {
        let size = match kernel {
            Kernel::Matmul(_) => std::mem::size_of::<MatmulParams>(),
            Kernel::Loss { .. } => std::mem::size_of::<LossParams>(),
            Kernel::Bias(_) => std::mem::size_of::<BiasParams>(),
            Kernel::Adam { .. } => std::mem::size_of::<AdamParams>(),
        };
        let uniform = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("mlp params"),
            size: size as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut all = vec![(0, &uniform)];
        all.extend_from_slice(entries);
        let bind_group = gpu.bind_group("mlp", pipeline, &all);
        Self {
            kernel,
            bind_group,
            uniform,
        }
    }
}

fn act_code(a: Activation) -> u32 {
    match a {
        Activation::Relu => 1,
        Activation::Silu => 2,
        Activation::Tanh => 3,
    }
}

/// Device buffers for batches of up to `capacity` rows, and the dispatches over them.
struct Workspace {
    capacity: u32,
    features: wgpu::Buffer,
    output: wgpu::Buffer,
    labels: Option<wgpu::Buffer>,
    values: Option<wgpu::Buffer>,
    row_loss: Option<wgpu::Buffer>,
    forward: Vec<Dispatch>,
    backward: Vec<Dispatch>,
}

/// The backward dispatches of one layer: its weight and bias gradients, and
/// (`previous`: the layer below's pre-activation and gradient) the gradient it
/// passes down. `shape` is ((inputs, outputs), (weight, bias offsets), activation).
fn layer_backward(
    gpu: &Gpu,
    pipes: &MlpPipelines,
    bufs: &ModelBuffers,
    shape: ((usize, usize), (usize, usize), u32),
    (dz, input, previous): (
        &wgpu::Buffer,
        &wgpu::Buffer,
        Option<(&wgpu::Buffer, &wgpu::Buffer)>,
    ),
    scratch: &wgpu::Buffer,
) -> Vec<Dispatch> {
    let ((i, o), (w_off, b_off), act) = shape;
    // dW = dZᵀ · input: C[o][i] = Σ_b dZ[b][o] · X[b][i].
    let mut out = vec![Dispatch::new(
        gpu,
        &pipes.matmul,
        Kernel::Matmul(MatmulParams {
            m: o as u32,
            n: i as u32,
            mode: 2,
            a_sm: 1,
            a_sk: o as u32,
            b_sk: i as u32,
            b_sn: 1,
            c_off: w_off as u32,
            c_sm: i as u32,
            ..Default::default()
        }),
        &[
            (1, dz),
            (2, input),
            (3, &bufs.params),
            (4, &bufs.grads),
            (5, scratch),
        ],
    )];
    // db = Σ_b dZ[b].
    out.push(Dispatch::new(
        gpu,
        &pipes.bias,
        Kernel::Bias(BiasParams {
            n: o as u32,
            off: b_off as u32,
            ..Default::default()
        }),
        &[(1, dz), (2, &bufs.grads)],
    ));
    // dZ_{l-1} = (dZ_l · W_l) ⊙ φ'(Z_{l-1}).
    if let Some((pre_below, dz_below)) = previous {
        out.push(Dispatch::new(
            gpu,
            &pipes.matmul,
            Kernel::Matmul(MatmulParams {
                n: i as u32,
                k: o as u32,
                mode: 1,
                a_sm: o as u32,
                a_sk: 1,
                act,
                b_off: w_off as u32,
                b_sk: i as u32,
                b_sn: 1,
                c_sm: i as u32,
                ..Default::default()
            }),
            &[
                (1, dz),
                (2, &bufs.params),
                (3, pre_below),
                (4, dz_below),
                (5, scratch),
            ],
        ));
    }
    out
}

impl Workspace {
    /// `classify`: for training, also allocate the gradients of the activations
    /// and the loss (cross-entropy if true, MSE if false) and backward dispatches.
    fn new(
        gpu: &Gpu,
        pipes: &MlpPipelines,
        spec: &MlpSpec,
        bufs: &ModelBuffers,
        capacity: u32,
        classify: Option<bool>,
    ) -> Self {
        let layers = spec.layers();
        let offsets = spec.offsets();
        let n_layers = layers.len();
        let rows = u64::from(capacity);
        let f32s = |n: usize| gpu.storage_buffer("mlp activations", rows * n as u64 * 4);
        let features = f32s(spec.feature_dim());
        // inputs[l] is layer l's input; pre[l] its pre-activation (pre[L-1] = output).
        let hidden_inputs: Vec<wgpu::Buffer> = layers[1..].iter().map(|&(i, _)| f32s(i)).collect();
        let pre: Vec<wgpu::Buffer> = layers.iter().map(|&(_, o)| f32s(o)).collect();
        let scratch = f32s(spec.output);
        let input = |l: usize| {
            if l == 0 {
                &features
            } else {
                &hidden_inputs[l - 1]
            }
        };
        let act = act_code(spec.activation);

        // Z = X·Wᵀ + b, then φ(Z) (identity on the last layer).
        let forward = layers
            .iter()
            .zip(&offsets)
            .enumerate()
            .map(|(l, (&(i, o), &(w_off, b_off)))| {
                let last = l + 1 == n_layers;
                let activated = if last { &scratch } else { &hidden_inputs[l] };
                Dispatch::new(
                    gpu,
                    &pipes.matmul,
                    Kernel::Matmul(MatmulParams {
                        n: o as u32,
                        k: i as u32,
                        mode: 0,
                        a_sm: i as u32,
                        a_sk: 1,
                        act: if last { 0 } else { act },
                        b_off: w_off as u32,
                        b_sk: 1,
                        b_sn: i as u32,
                        aux_off: b_off as u32,
                        c_sm: o as u32,
                        ..Default::default()
                    }),
                    &[
                        (1, input(l)),
                        (2, &bufs.params),
                        (3, &bufs.params),
                        (4, &pre[l]),
                        (5, activated),
                    ],
                )
            })
            .collect();

        let (mut backward, mut labels, mut values, mut row_loss) = (Vec::new(), None, None, None);
        if let Some(classify) = classify {
            let dz: Vec<wgpu::Buffer> = layers.iter().map(|&(_, o)| f32s(o)).collect();
            let lab = gpu.storage_buffer("mlp labels", rows * 4);
            let val = f32s(spec.output);
            let rl = gpu.storage_buffer("mlp row loss", rows * 4);
            let (pipeline, target) = if classify {
                (&pipes.cross_entropy, (2, &lab))
            } else {
                (&pipes.mean_squared_error, (3, &val))
            };
            backward.push(Dispatch::new(
                gpu,
                pipeline,
                Kernel::Loss {
                    classify,
                    k: spec.output as u32,
                },
                &[
                    (1, &pre[n_layers - 1]),
                    target,
                    (4, &dz[n_layers - 1]),
                    (5, &rl),
                ],
            ));
            for l in (0..n_layers).rev() {
                let previous = (l > 0).then(|| (&pre[l - 1], &dz[l - 1]));
                backward.extend(layer_backward(
                    gpu,
                    pipes,
                    bufs,
                    (layers[l], offsets[l], act),
                    (&dz[l], input(l), previous),
                    &scratch,
                ));
            }
            backward.push(Dispatch::new(
                gpu,
                &pipes.adam,
                Kernel::Adam {
                    n: spec.param_count() as u32,
                },
                &[
                    (1, &bufs.grads),
                    (2, &bufs.params),
                    (3, &bufs.m),
                    (4, &bufs.v),
                ],
            ));
            labels = Some(lab);
            values = Some(val);
            row_loss = Some(rl);
        }
        let output = pre.into_iter().last().expect("at least one layer");
        Workspace {
            capacity,
            features,
            output,
            labels,
            values,
            row_loss,
            forward,
            backward,
        }
    }
}

/// The model's persistent device state.
struct ModelBuffers {
    params: wgpu::Buffer,
    grads: wgpu::Buffer,
    m: wgpu::Buffer,
    v: wgpu::Buffer,
}

/// An MLP living on the GPU.
pub struct MlpGpu {
    spec: MlpSpec,
    pipes: std::sync::Arc<MlpPipelines>,
    bufs: ModelBuffers,
    train: Option<Workspace>,
    infer: Option<Workspace>,
    step: u32,
    last_batch: u32,
}

impl MlpGpu {
    /// Uploads `params` (the flat layout of `kernels::mlp`) and compiles the kernels.
    pub async fn new(gpu: &Gpu, spec: &MlpSpec, params: &[f32]) -> Result<Self, GpuError> {
        assert_eq!(params.len(), spec.param_count(), "parameter count");
        gpu.check_alive()?;
        let pipes = gpu.kernel::<MlpPipelines>().await?;
        let bytes = params.len() as u64 * 4;
        let bufs = ModelBuffers {
            params: gpu.storage_buffer("mlp params", bytes),
            grads: gpu.storage_buffer("mlp grads", bytes),
            m: gpu.storage_buffer("adam m", bytes),
            v: gpu.storage_buffer("adam v", bytes),
        };
        gpu.queue
            .write_buffer(&bufs.params, 0, bytemuck::cast_slice(params));
        Ok(Self {
            spec: spec.clone(),
            pipes,
            bufs,
            train: None,
            infer: None,
            step: 0,
            last_batch: 0,
        })
    }

    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// Steps taken so far.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// One training step on a batch of features (`batch × feature_dim`, from
    /// `kernels::mlp::featurize`): forward, loss, backward and Adam in a single
    /// submission. Nothing is read back.
    pub fn train_step(
        &mut self,
        gpu: &Gpu,
        features: &[f32],
        targets: Targets<'_>,
        loss: Loss,
        adam: &AdamConfig,
    ) -> Result<(), GpuError> {
        gpu.check_alive()?;
        let d = self.spec.feature_dim();
        let batch = (features.len() / d) as u32;
        let classify = matches!(loss, Loss::CrossEntropy { .. });
        let rebuild = match &self.train {
            None => true,
            Some(ws) => ws.capacity < batch || ws.labels.is_none(),
        };
        if rebuild {
            self.train = Some(Workspace::new(
                gpu,
                &self.pipes,
                &self.spec,
                &self.bufs,
                batch.max(1),
                Some(classify),
            ));
        }
        let ws = self.train.as_ref().expect("workspace");
        gpu.queue
            .write_buffer(&ws.features, 0, bytemuck::cast_slice(features));
        match targets {
            Targets::Labels(l) => gpu.queue.write_buffer(
                ws.labels.as_ref().expect("labels"),
                0,
                bytemuck::cast_slice(l),
            ),
            Targets::Values(v) => gpu.queue.write_buffer(
                ws.values.as_ref().expect("values"),
                0,
                bytemuck::cast_slice(v),
            ),
        }
        self.step += 1;
        let settings = StepSettings {
            batch,
            loss,
            adam: *adam,
            step: self.step,
        };
        // Uniforms depend on the batch size only, except Adam's step: skip rewrites when unchanged.
        for dispatch in ws.forward.iter().chain(&ws.backward) {
            if self.last_batch != batch
                || matches!(dispatch.kernel, Kernel::Adam { .. } | Kernel::Loss { .. })
            {
                gpu.queue
                    .write_buffer(&dispatch.uniform, 0, &dispatch.uniform_bytes(&settings));
            }
        }
        self.last_batch = batch;
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            for dispatch in ws.forward.iter().chain(&ws.backward) {
                dispatch.record(&self.pipes, &mut pass, batch);
            }
        }
        gpu.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// The mean loss of the last training step's batch (one small read-back).
    pub async fn last_loss(&self, gpu: &Gpu) -> Result<f32, GpuError> {
        let Some(ws) = &self.train else {
            return Ok(f32::NAN);
        };
        let rows: Vec<f32> = gpu
            .read_back(
                ws.row_loss.as_ref().expect("row loss"),
                self.last_batch as usize,
            )
            .await?;
        Ok(rows.iter().sum::<f32>() / rows.len().max(1) as f32)
    }

    /// The current parameters, read back.
    pub async fn params(&self, gpu: &Gpu) -> Result<Vec<f32>, GpuError> {
        gpu.read_back(&self.bufs.params, self.spec.param_count())
            .await
    }

    /// Outputs (`n × output`) for any number of feature rows, in chunks of
    /// [`INFER_CHUNK`], gathered on the device and read back once.
    pub async fn predict(&mut self, gpu: &Gpu, features: &[f32]) -> Result<Vec<f32>, GpuError> {
        gpu.check_alive()?;
        let d = self.spec.feature_dim();
        let out = self.spec.output;
        let n = features.len() / d;
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.infer.is_none() {
            self.infer = Some(Workspace::new(
                gpu,
                &self.pipes,
                &self.spec,
                &self.bufs,
                INFER_CHUNK,
                None,
            ));
        }
        let ws = self.infer.as_ref().expect("workspace");
        let gathered = gpu.storage_buffer("mlp predictions", (n * out * 4) as u64);
        for start in (0..n).step_by(INFER_CHUNK as usize) {
            let rows = (n - start).min(INFER_CHUNK as usize);
            gpu.queue.write_buffer(
                &ws.features,
                0,
                bytemuck::cast_slice(&features[start * d..(start + rows) * d]),
            );
            let settings = StepSettings {
                batch: rows as u32,
                loss: Loss::MeanSquaredError,
                adam: AdamConfig::default(),
                step: 1,
            };
            for dispatch in &ws.forward {
                gpu.queue
                    .write_buffer(&dispatch.uniform, 0, &dispatch.uniform_bytes(&settings));
            }
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                for dispatch in &ws.forward {
                    dispatch.record(&self.pipes, &mut pass, rows as u32);
                }
            }
            encoder.copy_buffer_to_buffer(
                &ws.output,
                0,
                &gathered,
                (start * out * 4) as u64,
                (rows * out * 4) as u64,
            );
            gpu.queue.submit([encoder.finish()]);
        }
        gpu.read_back(&gathered, n * out).await
    }

    /// Waits until submitted work finishes (benchmarks only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn wait(&self, gpu: &Gpu) {
        let _ = gpu.device.poll(wgpu::PollType::wait_indefinitely());
    }
}
