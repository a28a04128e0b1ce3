/* The static LeNet explorer of book.viz.lenet_explorer: LeNet's forward pass on the embedded weights, for the chosen
   test digit or a digit the reader draws, and every stage drawn as Python's STAGES list says. The forward pass is
   the model of book.train.lenet() layer for layer (conv 5x5 pad 2, ReLU, max pool 2, conv 5x5, ReLU, max pool 2,
   dense 120 ReLU, dense 84 ReLU, dense 10), in float64 on float32 weights; the browser test holds every stage to
   torch's. A drawing is prepared as MNIST's digits were: its ink scaled to fit 20 x 20 pixels (area-weighted),
   quantised to bytes, placed in 28 x 28 with its centre of mass at the centre, standardised with MNIST's mean and
   std. ES5, no dependencies, scoped to its root element; `root.lenet` exposes the pieces to tests. */
window.bookLenetExplorer=function(root){
var D=JSON.parse(root.querySelector('script.lx-data').textContent);
function bytes(b64){var s=atob(b64),out=new Uint8Array(s.length);for(var i=0;i<s.length;i++)out[i]=s.charCodeAt(i);
 return out;}
function floats(b64){return new Float32Array(bytes(b64).buffer);}
function standardised(pixels){   // book.data's float32 steps: / 255, - mean, / std, each rounded to float32
 var out=new Float32Array(pixels.length),m=Math.fround(D.mean),s=Math.fround(D.std);
 for(var i=0;i<pixels.length;i++)out[i]=Math.fround(Math.fround(pixels[i]/255)-m)/s;return out;}
var W={};for(var name in D.weights)W[name]={w:floats(D.weights[name].w),b:floats(D.weights[name].b)};
var digits=D.pixels?standardised(bytes(D.pixels)):floats(D.digits),N=D.labels.length,
 SHAPES={input:[1,28],conv1:[6,28],relu1:[6,28],pool1:[6,14],conv2:[16,10],relu2:[16,10],pool2:[16,5],dense1:[120],
 dense2:[84]};

function conv(x,C,H,L,O,k,pad){
 var Ho=H+2*pad-k+1,out=new Float64Array(O*Ho*Ho),w=L.w;
 for(var o=0;o<O;o++)for(var y=0;y<Ho;y++)for(var q=0;q<Ho;q++){var s=L.b[o];
  for(var c=0;c<C;c++)for(var i=0;i<k;i++){var r=y+i-pad;if(r<0||r>=H)continue;
   for(var j=0;j<k;j++){var t=q+j-pad;if(t>=0&&t<H)s+=x[(c*H+r)*H+t]*w[((o*C+c)*k+i)*k+j];}}
  out[(o*Ho+y)*Ho+q]=s;}
 return out;}
function relu(x){var out=new Float64Array(x.length);for(var i=0;i<x.length;i++)out[i]=x[i]>0?x[i]:0;return out;}
function pool(x,C,H){var h=H/2,out=new Float64Array(C*h*h);
 for(var c=0;c<C;c++)for(var y=0;y<h;y++)for(var q=0;q<h;q++){var a=(c*H+2*y)*H+2*q;
  out[(c*h+y)*h+q]=Math.max(x[a],x[a+1],x[a+H],x[a+H+1]);}
 return out;}
function dense(x,L,O){var I=x.length,out=new Float64Array(O);
 for(var o=0;o<O;o++){var s=L.b[o];for(var i=0;i<I;i++)s+=L.w[o*I+i]*x[i];out[o]=s;}return out;}
function forward(input){
 var s={input:Float64Array.from(input)};
 s.conv1=conv(s.input,1,28,W.conv1,6,5,2);s.relu1=relu(s.conv1);s.pool1=pool(s.relu1,6,28);
 s.conv2=conv(s.pool1,6,14,W.conv2,16,5,0);s.relu2=relu(s.conv2);s.pool2=pool(s.relu2,16,10);
 s.dense1=relu(dense(s.pool2,W.dense1,120));s.dense2=relu(dense(s.dense1,W.dense2,84));
 s.scores=dense(s.dense2,W.scores,10);
 var top=Math.max.apply(null,s.scores),e=[],sum=0,i;
 for(i=0;i<10;i++){e.push(Math.exp(s.scores[i]-top));sum+=e[i];}
 s.probabilities=e.map(function(v){return v/sum;});
 return s;}
function digit(i){return digits.subarray(i*784,(i+1)*784);}

/* Drawing: the pad's ink (alpha, 0..1) -> 28 x 28 pixel bytes, standardised as MNIST's are; null when blank. */
function prepare(ink,size){
 var x0=size,y0=size,x1=-1,y1=-1,x,y;
 for(y=0;y<size;y++)for(x=0;x<size;x++)if(ink[y*size+x]>0){x0=Math.min(x0,x);x1=Math.max(x1,x);
  y0=Math.min(y0,y);y1=Math.max(y1,y);}
 if(x1<0)return null;
 var bw=x1-x0+1,bh=y1-y0+1,scale=20/Math.max(bw,bh),tw=Math.max(1,Math.round(bw*scale)),
  th=Math.max(1,Math.round(bh*scale)),box=new Float64Array(tw*th),mass=0,my=0,mx=0;
 for(y=0;y<th;y++)for(x=0;x<tw;x++){   // each target pixel: the ink of the source area it covers, averaged
  var sy0=y0+y/scale,sy1=y0+(y+1)/scale,sx0=x0+x/scale,sx1=x0+(x+1)/scale,sum=0;
  for(var r=Math.floor(sy0);r<Math.min(Math.ceil(sy1),size);r++){var hy=Math.min(sy1,r+1)-Math.max(sy0,r);
   for(var c=Math.floor(sx0);c<Math.min(Math.ceil(sx1),size);c++)
    sum+=ink[r*size+c]*hy*(Math.min(sx1,c+1)-Math.max(sx0,c));}
  var v=Math.round(Math.min(1,sum*scale*scale)*255);box[y*tw+x]=v;mass+=v;my+=v*y;mx+=v*x;}
 var out=new Uint8Array(784),oy=Math.round(13.5-my/mass),ox=Math.round(13.5-mx/mass);
 for(y=0;y<th;y++)for(x=0;x<tw;x++){var r2=y+oy,c2=x+ox;if(r2>=0&&r2<28&&c2>=0&&c2<28)out[r2*28+c2]=box[y*tw+x];}
 return standardised(out);}

/* Pictures */
function rgb(hex){return [1,3,5].map(function(i){return parseInt(hex.substr(i,2),16);});}
var COLOURS={};for(var scale in D.colours)COLOURS[scale]=D.colours[scale].map(rgb);
function colour(v,scale,limit){var c=COLOURS[scale],t=limit>0?Math.max(-1,Math.min(1,v/limit)):0,
 end=t<0?c[0]:c[2],f=Math.abs(t);
 return [0,1,2].map(function(i){return Math.round(c[1][i]+(end[i]-c[1][i])*f);});}
function limitOf(v,scale){var m=0;for(var i=0;i<v.length;i++)m=Math.max(m,scale==='signed'?Math.abs(v[i]):v[i]);return m;}
function fmt(v,d){   // `d` decimals, always (table columns line up), never −0
 var t=(Math.round(v*Math.pow(10,d))/Math.pow(10,d)+0).toFixed(d);return t.replace('-','\u2212');}
function paint(canvas,values,offset,h,w,scale,limit){
 var g=canvas.getContext('2d'),img=g.createImageData(w,h);
 for(var i=0;i<h*w;i++){var c=colour(values[offset+i],scale,limit);
  img.data[4*i]=c[0];img.data[4*i+1]=c[1];img.data[4*i+2]=c[2];img.data[4*i+3]=255;}
 g.putImageData(img,0,0);}
function bars(canvas,values,limit){
 var g=canvas.getContext('2d'),w=canvas.width/values.length,h=canvas.height;
 g.clearRect(0,0,canvas.width,h);g.fillStyle='#102a43';
 for(var i=0;i<values.length;i++){var b=limit>0?values[i]/limit*(h-1):0;g.fillRect(i*w,h-b,Math.max(1,w-1),b);}}
var stages=D.stages.slice(0,-1).map(function(st){
 var fig=root.querySelector('[data-stage="'+st[0]+'"]'),shape=SHAPES[st[0]],box=fig.querySelector('.lx-maps'),
  maps=[],n=shape.length===2?shape[0]:1,size=shape.length===2?shape[1]:0,label=st[1].split(':')[0].split(',')[0];
 var named=[],opens=D.players[st[0]]!==undefined;
 for(var c=0;c<n;c++){var cv=document.createElement('canvas'),holder=cv;
  if(size){cv.width=cv.height=size;cv.className='lx-map lx-m'+size;}
  else{cv.width=shape[0]*3;cv.height=48;cv.className='lx-units';}
  if(opens){holder=document.createElement('button');holder.type='button';holder.className='lx-open';
   holder.setAttribute('aria-pressed','false');holder.onclick=openPlayer.bind(null,st[0],c,false);holder.appendChild(cv);}
  else cv.setAttribute('role','img');
  box.appendChild(holder);maps.push(cv);named.push(holder);}
 if(opens){   // one tab stop per layer; the arrow keys move between its maps
  named.forEach(function(b,c){b.tabIndex=c?-1:0;});
  box.onkeydown=function(e){var step={ArrowLeft:-1,ArrowUp:-1,ArrowRight:1,ArrowDown:1}[e.key],
   from=named.indexOf(document.activeElement);if(!step||from<0)return;
   var to=(from+step+n)%n;named[from].tabIndex=-1;named[to].tabIndex=0;named[to].focus();e.preventDefault();};}
 return {key:st[0],scale:st[2],size:size,maps:maps,named:named,label:label,range:fig.querySelector('.lx-range')};});
var rows=root.querySelectorAll('.lx-scores tbody tr'),status=root.querySelector('.lx-status'),shown=null,
 shownName='',opened=null;
function show(s,what){
 shown=s;shownName=what.name;
 stages.forEach(function(st){var v=s[st.key],limit=limitOf(v,st.scale);
  st.range.textContent=st.scale==='signed'?'(colours: \u00b1'+fmt(limit,2)+')':'(colours: 0 to '+fmt(limit,2)+')';
  if(!st.size){bars(st.maps[0],v,limit);var on=0,best=0;for(var i=0;i<v.length;i++){if(v[i]>0)on++;if(v[i]>v[best])best=i;}
   st.maps[0].setAttribute('aria-label',st.label+': '+on+' of '+v.length+' units active, largest '+fmt(v[best],2)+
    ' (unit '+best+')');return;}
  st.maps.forEach(function(cv,c){var a=c*st.size*st.size,lo=Infinity,hi=-Infinity;
   for(var i=a;i<a+st.size*st.size;i++){lo=Math.min(lo,v[i]);hi=Math.max(hi,v[i]);}
   paint(cv,v,a,st.size,st.size,st.scale,limit);
   st.named[c].setAttribute('aria-label',st.label+(st.maps.length>1?', map '+c:'')+': values '+fmt(lo,2)+' to '+
    fmt(hi,2)+(st.named[c]===cv?'':'; opens its kernel-sliding player'));});});
 if(opened)openPlayer(opened.stage,opened.map,true);   // the open player follows the digit, unannounced
 var top=0;for(var d=0;d<10;d++)if(s.scores[d]>s.scores[top])top=d;
 for(d=0;d<10;d++){var r=rows[d];r.className=d===top?'lx-top':'';
  r.querySelector('.lx-s').textContent=fmt(s.scores[d],2);
  r.querySelector('.lx-p').textContent=fmt(100*s.probabilities[d],1)+' %';
  r.querySelector('.lx-bar').style.width=(100*s.probabilities[d]).toFixed(1)+'%';}
 status.textContent=what.name+': LeNet reads '+top+' (probability '+fmt(100*s.probabilities[top],1)+' %)'+
  (what.label===null||what.label===undefined?'.':what.label===top?', right.':', wrong: the label is '+what.label+'.');
 return top;}
var select=root.querySelector('.lx-digit');
function choose(i){select.selectedIndex=(i+N)%N;
 show(forward(digit(select.selectedIndex)),{name:'digit '+(select.selectedIndex+1),label:D.labels[select.selectedIndex]});}
select.onchange=function(){choose(select.selectedIndex);};
root.querySelector('[data-act=prev]').onclick=function(){choose(select.selectedIndex-1);};
root.querySelector('[data-act=next]').onclick=function(){choose(select.selectedIndex+1);};

/* A feature map of conv 1 or conv 2 opens book.viz's kernel-sliding player (player.js, its script as is) on the
   map's real input channels and learned kernel. Python's template (lenet_explorer.player_template) is the player's
   data for the layer's shape with every input and kernel cell holding its own index; here each index becomes the
   value, written as book.viz.frames.format_number writes it, and the output numbers and each step's arithmetic
   are written as Frames.equation writes them, for the values the forward pass computed. */
function number(v){   // Python's round(v, 2), then trailing zeros dropped, a true minus, never -0
 // toFixed rounds the exact binary value as Python does, except an exact tie, which Python sends to the even
 // neighbour: only multiples of 1/8 are ties at two decimals (an odd multiple of 1/200 is exact only then).
 var y=v*100,n=null,t;if(Number.isInteger(v*8)&&!Number.isInteger(y)){n=Math.floor(y);if(n%2)n+=1;}
 t=(n===null?v:n/100).toFixed(2).replace(/0+$/,'').replace(/\.$/,'');
 return t==='-0'?'0':t.replace('-','\u2212');}
function paren(t){return t.charAt(0)==='\u2212'?'('+t+')':t;}
var CONV_INPUTS={conv1:['input',1,28,2,'the input'],conv2:['pool1',6,14,0,'pool 1\u2019s six maps']},players=0;
function playerData(stage,map,s){
 var P=JSON.parse(JSON.stringify(D.players[stage])),rec=P.s[0],spec=CONV_INPUTS[stage],x=s[spec[0]],C=spec[1],
  H=spec[2],pad=spec[3],k=5,w=W[stage].w.subarray(map*C*k*k,(map+1)*C*k*k),Ho=H+2*pad-k+1,texts=[],lines=[],
  inputs=Array.prototype.map.call(x,number),weights=Array.prototype.map.call(w,number),done={};
 function swap(q,values){if(!done[q])P.f[q]=P.f[q].replace(/(<text[^>]*>)(\d+)<\/text>/g,
  function(m,tag,i){return tag+values[+i]+'</text>';});done[q]=true;}
 rec.p.forEach(function(q){if(typeof q!=='number')return;
  P.f[q]=P.f[q].replace(/<g class="ks-shade">[^]*?<\/g>/g,'');  // shades of the template's placeholders: the player shades the values
  if(P.f[q].indexOf('<g class="ks-vals">')===0)swap(q,inputs);else if(P.f[q].indexOf('class="ks-kernel"')>=0)swap(q,weights);});
 for(var y=0;y<Ho;y++)for(var q=0;q<Ho;q++){var parts=[],shares=[],total=0;
  for(var c=0;c<C;c++){var terms=[],sum=0;
   for(var i=0;i<k;i++)for(var j=0;j<k;j++){var r=y+i-pad,t=q+j-pad,a=(c*k+i)*k+j,
    v=r>=0&&r<H&&t>=0&&t<H?x[(c*H+r)*H+t]:0;sum+=v*w[a];terms.push(number(v)+'\u00b7'+paren(weights[a]));}
   parts.push((C>1?'channel '+c+': ':'')+terms.join(' + ')+' = '+number(sum));shares.push(number(sum));total+=sum;}
  if(C>1)parts.push('sum over channels: '+shares.join(' + ')+' = '+number(total));
  lines.push(P.x.push(parts.join('\n'))-1);texts.push(P.x.push(number(total)+'</text>')-1);}
 rec.e=P.v.push(lines)-1;
 rec.p.forEach(function(q){if(typeof q!=='number')q[1]=P.v.push(texts)-1;});
 return P;}
function openPlayer(stage,map,quiet){
 var fig=root.querySelector('[data-stage="'+stage+'"]'),box=fig.querySelector('.lx-kp'),spec=CONV_INPUTS[stage],
  el=document.createElement('div'),data=document.createElement('script'),name=stage==='conv1'?'conv 1':'conv 2';
 closePlayer();opened={stage:stage,map:map};
 stages.forEach(function(st){st.named.forEach(function(b,c){if(b.tagName==='BUTTON')
  b.setAttribute('aria-pressed',String(st.key===stage&&c===map));});});
 box.innerHTML='<p class="lx-kp-title"></p><button type="button" class="lx-close">close the kernel player</button>';
 box.querySelector('.lx-kp-title').textContent=name+', map '+map+' of '+shownName+': its learned kernel slides over '+
  spec[4]+'. The map is this output plus the kernel\u2019s bias, '+fmt(W[stage].b[map],4)+'.';
 box.querySelector('.lx-close').onclick=function(){closePlayer();fig.querySelectorAll('.lx-open')[map].focus();};
 el.className='ks ks-player';el.id='lx-kp-'+(++players);el.setAttribute('data-playing','0');
 data.type='application/json';data.className='ks-data';data.textContent=JSON.stringify(playerData(stage,map,shown));
 el.appendChild(data);box.appendChild(el);window.bookKsPlayer(el);
 if(!quiet)status.textContent='Opened the kernel-sliding player of '+name+', map '+map+', below its maps.';}
function closePlayer(){
 if(!opened)return;var box=root.querySelector('[data-stage="'+opened.stage+'"] .lx-kp');
 var playing=box.querySelector('[data-playing="1"] [data-act=play]');if(playing)playing.click();   // stops its timer
 box.innerHTML='';opened=null;
 root.querySelectorAll('.lx-open').forEach(function(b){b.setAttribute('aria-pressed','false');});}

/* The drawing pad: pointer strokes, or a keyboard pen (arrows move it, Space lifts or lowers it). */
var pad=root.querySelector('.lx-pad'),pg=pad.getContext('2d'),seen=root.querySelector('.lx-seen'),
 verdict=root.querySelector('.lx-verdict'),SIZE=pad.width,STEP=SIZE/28,drawn=null,last=null,pen={x:SIZE/2,y:SIZE/2,down:false};
pg.lineCap=pg.lineJoin='round';pg.lineWidth=18;pg.strokeStyle='#000';
function at(e){var b=pad.getBoundingClientRect();return {x:(e.clientX-b.left)*SIZE/b.width,y:(e.clientY-b.top)*SIZE/b.height};}
function line(a,b){pg.beginPath();pg.moveTo(a.x,a.y);pg.lineTo(b.x+0.01,b.y);pg.stroke();}
function classify(){
 var data=pg.getImageData(0,0,SIZE,SIZE).data,ink=new Float64Array(SIZE*SIZE);
 for(var i=0;i<ink.length;i++)ink[i]=data[4*i+3]/255;
 drawn=prepare(ink,SIZE);
 if(!drawn){verdict.textContent='Nothing drawn yet.';seen.getContext('2d').clearRect(0,0,28,28);return;}
 paint(seen,drawn,0,28,28,'ink',limitOf(drawn,'ink'));
 var s=forward(drawn),top=0;for(var d=1;d<10;d++)if(s.scores[d]>s.scores[top])top=d;
 verdict.textContent='LeNet reads your drawing as '+top+' (probability '+fmt(100*s.probabilities[top],1)+' %).';}
pad.onpointerdown=function(e){pad.setPointerCapture(e.pointerId);last=at(e);line(last,last);e.preventDefault();};
pad.onpointermove=function(e){if(!last)return;var p=at(e);line(last,p);last=p;};
pad.onpointerup=pad.onpointercancel=function(){if(last){last=null;classify();}};
pad.onkeydown=function(e){var moves={ArrowLeft:[-1,0],ArrowRight:[1,0],ArrowUp:[0,-1],ArrowDown:[0,1]},m=moves[e.key];
 if(e.key===' '){pen.down=!pen.down;if(pen.down)line(pen,pen);classify();}
 else if(m){var from={x:pen.x,y:pen.y};pen.x=Math.max(0,Math.min(SIZE,pen.x+m[0]*STEP));
  pen.y=Math.max(0,Math.min(SIZE,pen.y+m[1]*STEP));if(pen.down){line(from,pen);classify();}}
 else return;
 e.preventDefault();var box=pad.parentNode;box.style.setProperty('--pen-x',100*pen.x/SIZE+'%');box.style.setProperty('--pen-y',100*pen.y/SIZE+'%');
 root.querySelector('.lx-pen').className='lx-pen'+(pen.down?' lx-down':'');};
root.querySelector('[data-act=clear]').onclick=function(){pg.clearRect(0,0,SIZE,SIZE);pen.down=false;classify();};
root.querySelector('[data-act=copy]').onclick=function(){var x=digit(select.selectedIndex);pg.clearRect(0,0,SIZE,SIZE);
 for(var i=0;i<784;i++){var v=Math.max(0,Math.min(1,x[i]*D.std+D.mean));if(v>0){pg.fillStyle='rgba(0,0,0,'+v+')';
  pg.fillRect(i%28*STEP,Math.floor(i/28)*STEP,STEP,STEP);}}
 classify();};
root.querySelector('[data-act=explore]').onclick=function(){
 if(drawn)show(forward(drawn),{name:'your drawing',label:null});else verdict.textContent='Draw a digit first.';};
root.lenet={forward:forward,prepare:prepare,number:number,digit:function(i){return Array.from(digit(i));},
 shown:function(){return shown;},drawn:function(){return drawn&&Array.from(drawn);},choose:choose};
choose(0);
};
