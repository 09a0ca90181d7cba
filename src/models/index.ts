/** Model builders. */
export { mobilenetV3Small, MobileNetV3Small, InvertedResidual, ConvBNAct, CustomActivationModule, setInferenceFusion } from './mobilenet-v3.js';
export {
  MOBILENET_V3_SMALL, describeMobileNetV3Small, makeDivisible, resolveConfig,
  type BlockConfig, type ResolvedBlockConfig, type BlockActivation, type CustomActivation, type MobileNetV3Options, type LayerInfo,
} from './mobilenet-v3-config.js';
